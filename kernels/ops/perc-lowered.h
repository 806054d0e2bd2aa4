/* Convolution as a matrix product: weights [out x in*k*k] times the
 * lowered input [in*k*k x pixels], a panel of pixels at a time, lowered
 * straight into the layout BLIS's micro-kernel reads and run against
 * weights packed when the model loads.  A 1x1 convolution with stride 1
 * needs no lowering: its panels are copies of the input planes.  Outputs
 * narrower than a panel are lowered pixel by pixel into panels that span
 * rows, and images, so that small layers fill them.
 */
#ifndef PERC_LOWERED_H
#define PERC_LOWERED_H

#include <glib.h>

#include "ops/perc-conv-layer.h"

G_BEGIN_DECLS

/* Floats of conv's packed weights (with room for the alignment). */
gsize        perc_lowered_weights_size (const PercConv *conv);

/* Packs conv->weight into dst; returns where they start (aligned). */
const float *perc_lowered_pack         (const PercConv *conv,
                                        float          *dst);

/* Floats of scratch memory perc_lowered_forward_part () needs for an
 * h x w input.
 */
gsize        perc_lowered_scratch_size (const PercConv *conv,
                                        int             height,
                                        int             width);

/* Output rows [first, end) of channels [c0, c1), with bias and ReLU, the
 * rest of dst untouched.
 */
void         perc_lowered_forward_part (const PercConv *conv,
                                        const float    *src,
                                        int             height,
                                        int             width,
                                        float          *dst,
                                        float          *scratch,
                                        int             first,
                                        int             end,
                                        int             c0,
                                        int             c1);

/* Pixels [first, end) of the outputs of images src[0], src[1], ... (each
 * h x w) flattened one after the other, channels [c0, c1), with bias and
 * ReLU, into dst[0], dst[1], ...: one product for all of them.  Only for
 * 1x1 convolutions with stride 1, or outputs narrower than a panel.
 */
void         perc_lowered_forward_images (const PercConv     *conv,
                                          const float *const *src,
                                          int                 height,
                                          int                 width,
                                          float *const       *dst,
                                          float              *scratch,
                                          gsize               first,
                                          gsize               end,
                                          int                 c0,
                                          int                 c1);

G_END_DECLS

#endif
