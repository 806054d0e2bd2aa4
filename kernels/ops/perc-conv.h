/* 2-D convolution (NCHW, one image): the method chosen per layer and
 * size (Winograd's blocks where they pay: a layer that can take them, on
 * an output large enough for its channels (perc_conv_winograd_at ()); the
 * lowered product otherwise), and run a block of output rows and
 * channels at a time.
 */
#ifndef PERC_CONV_H
#define PERC_CONV_H

#include <glib.h>

#include "ops/perc-conv-layer.h"

G_BEGIN_DECLS

#define PERC_CONV_WINOGRAD_MIN_WORK 16384

/* Chooses conv's method for products by `microkernel`, which the packed
 * weights will be laid out for.
 */
void         perc_conv_choose       (PercConv              *conv,
                                     const PercMicrokernel *microkernel);

/* Floats of conv's weights as its method reads them (with room for the
 * alignment), after perc_conv_choose ().
 */
gsize        perc_conv_weights_size (const PercConv        *conv);

/* Lays conv->weight out for its method in dst (perc_conv_weights_size ()
 * floats) and points conv at them; returns where they start.
 */
const float *perc_conv_pack         (PercConv              *conv,
                                     float                 *dst);

/* Whether an h x w input goes through Winograd's blocks: whether its
 * output pixels times in out / (in + out) channels reach
 * PERC_CONV_WINOGRAD_MIN_WORK, in blocks enough for half a panel of the
 * micro-kernel's pixels.
 */
gboolean     perc_conv_winograd_at  (const PercConv        *conv,
                                     int                    height,
                                     int                    width);

/* Floats of scratch memory perc_conv_forward_part () needs for an h x w
 * input.
 */
gsize        perc_conv_scratch_size (const PercConv        *conv,
                                     int                    height,
                                     int                    width);

/* Output rows [first, end) of channels [c0, c1) of out_channels planes of
 * the usual out_h x out_w ((size + 2 pad - kernel) / stride + 1), the
 * rest of dst untouched: threads can share one convolution, each with its
 * own scratch.  Parts computed apart equal the whole.
 */
void         perc_conv_forward_part (const PercConv        *conv,
                                     const float           *src,
                                     int                    height,
                                     int                    width,
                                     float                 *dst,
                                     float                 *scratch,
                                     int                    first,
                                     int                    end,
                                     int                    c0,
                                     int                    c1);

/* Whether images of h x w can share one product (perc_conv_forward_images
 * ()): outputs narrower than a panel of the micro-kernel's pixels, or in
 * Winograd's blocks where one image's fill at most a panel
 * (perc_winograd_spans ()); panels then run on from one image into the
 * next.
 */
gboolean     perc_conv_spans_images (const PercConv        *conv,
                                     int                    height,
                                     int                    width);

/* Channels [c0, c1) of the whole outputs of n images src[i] into dst[i]
 * (each of h x w, where perc_conv_spans_images ()), in one product: its
 * weights read once for all, its panels full.  Each image's output equals
 * perc_conv_forward_part ()'s.
 */
void         perc_conv_forward_images (const PercConv        *conv,
                                       const float *const    *src,
                                       int                    n,
                                       int                    height,
                                       int                    width,
                                       float *const          *dst,
                                       float                 *scratch,
                                       int                    c0,
                                       int                    c1);

G_END_DECLS

#endif
