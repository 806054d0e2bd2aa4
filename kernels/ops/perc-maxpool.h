/* Max pooling (NCHW, one image). */
#ifndef PERC_POOL_H
#define PERC_POOL_H

#include <glib.h>

G_BEGIN_DECLS

/* Windows of kernel x kernel at the given stride; padding and any part of
 * a window past the input (ceil mode) are ignored, as PyTorch does.
 * out_h and out_w come from perc_op_output_size ().
 */
void perc_maxpool (const float *src,
                   int          channels,
                   int          height,
                   int          width,
                   int          kernel,
                   int          stride,
                   int          pad,
                   float       *dst,
                   int          out_h,
                   int          out_w);

G_END_DECLS

#endif
