/* The map ops block by block.  An output region needs only the blocks it
 * meets (a fixed grid from the compared region's origin), each computed
 * from its crop with the halo (see perc-tiles.h) and kept in GEGL's cache,
 * so a request for another region computes only its own blocks.  Blocks
 * are spread over GEGL's threads, each with a workspace of its own; their
 * layer sums make the whole distance once every block is known.
 */
#ifndef PERCEPTUAL_BLOCKS_H
#define PERCEPTUAL_BLOCKS_H

#include <gegl.h>
#include <gegl-plugin.h>

#include "distance/perc-distance.h"
#include "perceptual-models.h"

G_BEGIN_DECLS

/* The block side before alignment to the network's strides.  Measured
 * for SqueezeNet on two cores (tests/bench-preview): with 1024 a 3000 x
 * 2000 image takes 1.3 times the whole-image computation (512: 1.8, 768:
 * 1.5; the halo's extra work) and a block about 0.6 s.
 */
#define PERCEPTUAL_BLOCK 1024

/* The GeglOperationClass functions of a map op (a composer): bounding
 * box, the regions it needs, caches and invalidates, by blocks.
 */
void     perceptual_blocks_class_init (GeglOperationClass     *klass);

/* From the op's prepare (): what it computes (the choice is copied) and
 * its output format: `format` (the map) or, when nothing can be
 * compared (no aux, no model, a bad one), the input's, which process
 * then passes through.  layer -1: the spatial map; layer_grid: that
 * layer at its own resolution, computed whole.
 */
void     perceptual_blocks_prepare    (GeglOperation          *operation,
                                       const PerceptualChoice *choice,
                                       int                     layer,
                                       gboolean                layer_grid,
                                       const char             *format);

/* Writes `result` of the output: the map of the blocks it meets, or the
 * input passed through; *status says what was compared, or why not.
 */
void     perceptual_blocks_process    (GeglOperation          *operation,
                                       GeglBuffer             *input,
                                       GeglBuffer             *aux,
                                       GeglBuffer             *output,
                                       const GeglRectangle    *result,
                                       char                  **status);

/* The whole overlap's distance (terms, layers, grid sizes): from the
 * blocks when every one is known, else computed now from the op's
 * inputs.  FALSE, with *status saying why, when nothing can be compared.
 */
gboolean perceptual_blocks_distance   (GeglOperation          *operation,
                                       const PerceptualChoice *choice,
                                       PercDistance           *out,
                                       char                  **status);

/* What an op's output properties read: the whole distance, and with
 * term (may be NULL) layer `layer`'s term; NaN when nothing can be
 * compared, and *status says why.
 */
void     perceptual_blocks_read       (GeglOperation          *operation,
                                       const PerceptualChoice *choice,
                                       int                     layer,
                                       double                 *distance,
                                       double                 *term,
                                       char                  **status);

G_END_DECLS

#endif
