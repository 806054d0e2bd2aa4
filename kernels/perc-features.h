/* Running a network on one image (or one region of an image) to get the
 * features at its taps.  The reductions to distances are separate
 * (perc-distance.h), so that regions can be run one at a time.
 */
#ifndef PERC_FEATURES_H
#define PERC_FEATURES_H

#include <glib.h>

#include "perc-image.h"
#include "perc-model.h"

G_BEGIN_DECLS

/* The raw (not normalised) features at each tap: NCHW planes. */
typedef struct
{
  int        n_taps;
  PercShape  shapes[PERC_MAX_TAPS];
  float     *data[PERC_MAX_TAPS];
  gsize      capacity[PERC_MAX_TAPS];   /* floats allocated */
} PercFeatures;

PercFeatures  *perc_features_new     (void);
void           perc_features_free    (PercFeatures *features);

/* The workspace of one thread running one model; reused between runs and
 * grown as needed.
 */
typedef struct _PercExtractor PercExtractor;

PercExtractor *perc_extractor_new    (const PercModel *model);
void           perc_extractor_free   (PercExtractor   *extractor);

/* BLIS threads inside each of this extractor's matrix products (1 when
 * extractors run side by side); 0, the default: BLIS's own setting.
 */
void           perc_extractor_set_threads (PercExtractor *extractor,
                                           int            threads);

/* Runs the network; `scaling` applies LPIPS v0.1's input scaling (see
 * perc_calibration_scales ()).  Fails if the image is smaller than the
 * model's minimum size or holds non-finite values.
 */
gboolean       perc_extractor_run    (PercExtractor   *extractor,
                                      const PercImage *image,
                                      gboolean         scaling,
                                      PercFeatures    *features,
                                      GError         **error);

/* Bytes perc_extractor_run () holds for a width x height image: the
 * network's buffers (taps included) and its scratch memory.
 */
gsize          perc_extractor_bytes  (const PercModel *model,
                                      int              width,
                                      int              height);

/* Bytes of the taps alone for a width x height image. */
gsize          perc_features_bytes   (const PercModel *model,
                                      int              width,
                                      int              height);

/* Whether a calibration feeds the network scaled inputs (all but v0.0). */
gboolean       perc_calibration_scales (PercCalibration calibration);

G_END_DECLS

#endif
