/* A loaded model: a network description, its weights and its calibration.
 * A model is immutable once loaded: any number of threads may use one
 * model at the same time, each with its own PercExtractor.
 */
#ifndef PERC_MODEL_H
#define PERC_MODEL_H

#include <glib.h>

#include "model/perc-catalog.h"
#include "ops/perc-conv-layer.h"
#include "model/perc-net.h"
#include "model/perc-safetensors.h"

G_BEGIN_DECLS


typedef struct
{
  char            *path;
  PercNet         *net;
  PercCalibration  calibration;       /* what the file holds */
  PercConv        *convs;             /* per op of net; unused for pools */
  PercMicrokernel  microkernel;       /* the one the weights are packed for */
  float           *lin[PERC_MAX_TAPS];/* per tap; NULL if unweighted */
  float           *storage;           /* all weights, as the kernels take
                                       * them (perc-conv.h), owned */
  int              min_size;
} PercModel;

/* The model in `path`, its weights packed for `microkernel` (a front end
 * chooses it, perc-microkernel.h), which the model keeps a copy of.
 */
PercModel  *perc_model_load            (const char            *path,
                                        const PercMicrokernel *microkernel,
                                        GError               **error);
/* The model in an already parsed file; the file may be freed afterwards. */
PercModel  *perc_model_new             (const PercSafetensors *st,
                                        const PercMicrokernel *microkernel,
                                        GError               **error);
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

/* FALSE, with an error that says the smallest size, when a width x height
 * image is too small for the model's network.
 */
gboolean    perc_model_check_size      (const PercModel *model,
                                        int              width,
                                        int              height,
                                        GError         **error);

G_END_DECLS

#endif
