/* Running a network on one image (or one region of an image) to get the
 * features at its taps.  The reductions to distances are separate
 * (perc-distance.h), so that regions can be run one at a time.
 */
#ifndef PERC_FEATURES_H
#define PERC_FEATURES_H

#include <glib.h>

#include "run/perc-image.h"
#include "model/perc-model.h"

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

/* Runs the network; `scaling` applies LPIPS v0.1's input scaling (see
 * perc_calibration_scales ()).  Fails if the image is smaller than the
 * model's minimum size or holds non-finite values.
 */
gboolean       perc_extractor_run    (PercExtractor   *extractor,
                                      const PercImage *image,
                                      gboolean         scaling,
                                      PercFeatures    *features,
                                      GError         **error);

/* n images, each through its own extractor (all of one model), in
 * lockstep: op by op, every image's before the next op, so that each op's
 * weights are read from memory once for all of them, and images of one
 * size share the products of small layers (perc_network_op_images ()).  The same features
 * as perc_extractor_run () on each; fails as it does, before any work.
 */
gboolean       perc_extractor_run_batch (PercExtractor   *const *extractors,
                                         const PercImage        *images,
                                         int                     n,
                                         gboolean                scaling,
                                         PercFeatures    *const *features,
                                         GError                **error);

/* Fails if the image is smaller than the model's minimum size or holds
 * non-finite values.
 */
gboolean       perc_features_check_input (const PercModel *model,
                                          const PercImage *image,
                                          GError         **error);

/* The units of op i that part `part` of `parts` computes, [first, end):
 * of a convolution's output rows x channels (a unit is one channel of one
 * row: all units of an op are the same work), of a pooling's channels, of
 * an addition's elements.  Parts take every unit once, in turn, each
 * within one unit of 1/parts of them, so that threads share every op
 * evenly.
 */
void           perc_network_part     (const PercNet   *net,
                                      int              i,
                                      const PercShape *shapes,
                                      int              part,
                                      int              parts,
                                      gsize           *first,
                                      gsize           *end);

/* Runs part `part` of `parts` of op i of the model's network alone (all
 * of it with 0 of 1; perc_network_part () says which units).  `buffers`
 * holds every buffer of `shapes`; `scratch`, one per thread,
 * perc_network_scratch () floats.  Runs in the calling thread.
 */
void           perc_network_op       (const PercModel *model,
                                      int              i,
                                      const PercShape *shapes,
                                      float *const    *buffers,
                                      float           *scratch,
                                      int              part,
                                      int              parts);

/* Whether op i, on inputs of `shapes`, runs all images of one size in
 * one product (perc_network_op_images ()): a convolution whose outputs
 * are narrower than a panel (perc_conv_spans_images ()).
 */
gboolean       perc_network_op_spans (const PercModel *model,
                                      int              i,
                                      const PercShape *shapes);

/* Whether two threads take less time splitting every op of two images of
 * `shapes` between them than running one image each: where the images'
 * sharing panels saves an eighth or more of the products' padded work
 * (measured: AlexNet at 48 to 112 pixels, VGG-16 at 48 and 64), and the
 * ops are large enough to pay for a hand-over each.
 */
gboolean       perc_network_split_pays (const PercModel *model,
                                        const PercShape *shapes);

/* Part `part` of `parts` of op i of n images of one size, views[k] the
 * buffers of image k, in the calling thread: one product for all of them
 * where the op spans images (for a part of its channels, where parts go
 * channel by channel), else image by image.  The same as
 * perc_network_op () on each.
 */
void           perc_network_op_images (const PercModel *model,
                                       int              i,
                                       const PercShape *shapes,
                                       float *const *const *views,
                                       int              n,
                                       float           *scratch,
                                       int              part,
                                       int              parts);

/* Floats of scratch memory perc_network_op () needs for `shapes`. */
gsize          perc_network_scratch  (const PercModel *model,
                                      const PercShape *shapes);

/* Grows *buffer, of *capacity floats, to hold n floats (contents are not
 * kept); returns it.
 */
float         *perc_reserve          (float **buffer,
                                      gsize  *capacity,
                                      gsize   n);

/* Whether a calibration feeds the network scaled inputs (all but v0.0). */
gboolean       perc_calibration_scales (PercCalibration calibration);

G_END_DECLS

#endif
