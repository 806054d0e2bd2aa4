/* Winograd's minimal filtering for stride-1 convolutions: F(m x m, r x r)
 * computes each m x m block of outputs from an alpha x alpha block of the
 * input (alpha = m + r - 1) with alpha^2 multiplications per pair of
 * channels instead of m^2 r^2.  The alpha^2 products of all blocks are
 * alpha^2 matrix products, done by BLIS's micro-kernel.
 */
#ifndef PERC_WINOGRAD_H
#define PERC_WINOGRAD_H

#include <glib.h>

#include "ops/perc-conv-layer.h"

G_BEGIN_DECLS

/* Blocks m and kernels r with m + r - 1 up to this are supported. */
#define PERC_WINOGRAD_MAX_ALPHA 8

/* The output block size worth using for a convolution: 0 where the
 * direct product is as fast (strides other than 1, 1x1 kernels, few
 * channels).
 */
int      perc_winograd_block         (const PercConv *conv);

/* Floats of the transformed weights of conv with blocks of m (none for
 * 0).
 */
gsize    perc_winograd_weights_size  (const PercConv *conv,
                                      int             m);

/* Transforms conv's weights for blocks of m into dst, of
 * perc_winograd_weights_size () floats: alpha^2 matrices of out_channels
 * x in_channels, packed the way BLIS's micro-kernel reads them, so that
 * the products run conv->microkernel alone.  Returns where they start in
 * dst (aligned).
 */
const float *perc_winograd_weights   (const PercConv *conv,
                                      int             m,
                                      float          *dst);

/* Floats of scratch memory perc_winograd_forward_part () needs for an
 * h x w input.
 */
gsize    perc_winograd_scratch_size  (const PercConv *conv,
                                      int             height,
                                      int             width);

/* As perc_conv_forward_part () (perc-conv.h), with conv->winograd_m and
 * conv->winograd_weight set, in the calling thread alone.  Blocks start at
 * output row 0 whatever `first` is, so that parts computed apart equal
 * the whole; parts of the channels transform the whole input band.
 */
void     perc_winograd_forward_part  (const PercConv *conv,
                                      const float    *src,
                                      int             height,
                                      int             width,
                                      float          *dst,
                                      float          *scratch,
                                      int             first,
                                      int             end,
                                      int             c0,
                                      int             c1);

/* Whether images of h x w share panels in perc_winograd_forward_images ():
 * where one image's blocks fill at most a panel of the micro-kernel's
 * pixels.
 */
gboolean perc_winograd_spans         (const PercConv *conv,
                                      int             height,
                                      int             width);

/* Channels [c0, c1) of the whole outputs of n images src[i] into dst[i],
 * where perc_winograd_spans (): their blocks packed one after the other
 * into shared panels, so that the products have fewer, fuller panels and
 * read the weights once for all.  Each image's output equals
 * perc_winograd_forward_part ()'s.
 */
void     perc_winograd_forward_images (const PercConv     *conv,
                                       const float *const *src,
                                       int                 n,
                                       int                 height,
                                       int                 width,
                                       float *const       *dst,
                                       float              *scratch,
                                       int                 c0,
                                       int                 c1);

G_END_DECLS

#endif
