/* A loaded model: a network description, its weights and its calibration.
 * A model is immutable once loaded: any number of threads may use one
 * model at the same time, each with its own PercExtractor.
 */
#ifndef PERC_MODEL_H
#define PERC_MODEL_H

#include <glib.h>

#include "perc-conv.h"
#include "perc-net.h"
#include "perc-safetensors.h"

G_BEGIN_DECLS

typedef enum
{
  PERC_CALIBRATION_LPIPS_V0_1,
  PERC_CALIBRATION_LPIPS_V0_0,
  PERC_CALIBRATION_UNWEIGHTED
} PercCalibration;

typedef struct
{
  char            *path;
  PercNet         *net;
  PercCalibration  calibration;       /* what the file holds */
  PercConv        *convs;             /* per op of net; unused for pools */
  float           *lin[PERC_MAX_TAPS];/* per tap; NULL if unweighted */
  float           *storage;           /* all weights, as the kernels take
                                       * them (perc-conv.h), owned */
  int              min_size;
} PercModel;

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

/* The directories searched for installed models, in order:
 * GEGL_PERCEPTUAL_WEIGHTS_PATH (a list separated by G_SEARCHPATH_SEPARATOR),
 * the user data dir ($XDG_DATA_HOME/gegl-perceptual/weights) and
 * `installed_dir` (may be NULL).  Free with g_strfreev ().
 */
char      **perc_model_search_dirs     (const char      *installed_dir);

/* Finds the file for network + calibration in the search directories; an
 * unweighted model may also come from a calibrated file of that network.
 * The error says where it looked and how to install the model.
 */
char       *perc_model_locate          (const char      *network,
                                        PercCalibration  calibration,
                                        const char      *installed_dir,
                                        GError         **error);

PercModel  *perc_model_load            (const char      *path,
                                        GError         **error);
/* The model in an already parsed file; the file may be freed afterwards. */
PercModel  *perc_model_new             (const PercSafetensors *st,
                                        GError         **error);
void        perc_model_free            (PercModel       *model);

/* Whether the model can compute `calibration`: the unweighted distance
 * always, a calibrated one only with that calibration's lin weights.
 */
gboolean    perc_model_supports        (const PercModel *model,
                                        PercCalibration  calibration,
                                        GError         **error);

/* Lin weights of a tap for a supported calibration; NULL means all ones. */
const float *perc_model_lin            (const PercModel *model,
                                        PercCalibration  calibration,
                                        int              tap);

G_END_DECLS

#endif
