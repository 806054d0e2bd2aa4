/* Calibrations, and where installed models are: what front ends list,
 * check and say without loading a model (the built-in networks are in
 * perc-net.h).  GLib only.
 */
#ifndef PERC_CATALOG_H
#define PERC_CATALOG_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  PERC_CALIBRATION_LPIPS_V0_1,
  PERC_CALIBRATION_LPIPS_V0_0,
  PERC_CALIBRATION_UNWEIGHTED
} PercCalibration;

const char *perc_calibration_name      (PercCalibration  calibration);
gboolean    perc_calibration_from_name (const char      *name,
                                        PercCalibration *calibration);

/* The calibration a network's distances use unless told otherwise: LPIPS
 * v0.1 for the networks LPIPS calibrated, unweighted for the others.
 */
PercCalibration perc_calibration_default (const char *network);

/* File name of an installed model: "<network>-<calibration>.safetensors". */
char       *perc_model_file_name       (const char      *network,
                                        PercCalibration  calibration);

/* The folders searched for installed models, in order: those of
 * `path_list` (separated by G_SEARCHPATH_SEPARATOR; a front end passes
 * GEGL_PERCEPTUAL_WEIGHTS_PATH), `user_data_dir`/gegl-perceptual/weights
 * and `installed_dir` (each may be NULL).  Free with g_strfreev ().
 */
char      **perc_model_search_dirs     (const char      *path_list,
                                        const char      *user_data_dir,
                                        const char      *installed_dir);

/* Finds the file for network + calibration in `dirs` (NULL-terminated); an
 * unweighted model may also come from a calibrated file of that network.
 * The error says where it looked and how to install the model.
 */
char       *perc_model_locate          (const char        *network,
                                        PercCalibration    calibration,
                                        const char *const *dirs,
                                        GError           **error);

G_END_DECLS

#endif
