/* The networks the core knows by name, their calibrations, and where
 * their installed models are: what front ends list, check and say
 * without loading a model.  GLib only.
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

typedef struct
{
  const char *name;       /* "squeeze": model file names, the ops' and the CLI's choice */
  const char *label;      /* "SqueezeNet 1.1", untranslated (for N_ / _ ()) */
  int         n_taps;     /* layers; a ResNet's four stages, then its stem */
  int         min_size;   /* the smallest image side the network takes */
  gboolean    lpips;      /* LPIPS published calibrations for it */
} PercNetworkInfo;

/* The built-in networks, in a fixed order; the last entry's name is NULL. */
const PercNetworkInfo *perc_catalog_networks (void);
/* A built-in network by name, or NULL. */
const PercNetworkInfo *perc_catalog_network  (const char *name);
/* Their names joined by `separator`; free with g_free (). */
char                  *perc_catalog_names    (const char *separator);

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
