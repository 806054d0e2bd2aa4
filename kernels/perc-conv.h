/* 2-D convolution (NCHW, one image) lowered to BLIS sgemm. */
#ifndef PERC_CONV_H
#define PERC_CONV_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  int          in_channels;
  int          out_channels;
  int          kernel;         /* square kernels */
  int          stride;
  int          pad;            /* zero padding on every side */
  gboolean     relu;
  const float *weight;         /* [out][in][kernel][kernel] */
  const float *bias;           /* [out] */
} PercConv;

/* Floats of scratch memory perc_conv_forward needs for an h x w input. */
gsize perc_conv_scratch_size (const PercConv *conv,
                              int             height,
                              int             width);

/* dst receives out_channels planes of out_h x out_w floats, where out_h and
 * out_w are the usual (size + 2 pad - kernel) / stride + 1.  `threads`:
 * BLIS threads for this call; 0 leaves the choice to BLIS's settings.
 */
void  perc_conv_forward      (const PercConv *conv,
                              const float    *src,
                              int             height,
                              int             width,
                              float          *dst,
                              float          *scratch,
                              int             threads);

/* Output rows [first, end) alone, the rest of dst untouched: threads can
 * share one convolution, each with its own scratch.
 */
void  perc_conv_forward_rows (const PercConv *conv,
                              const float    *src,
                              int             height,
                              int             width,
                              float          *dst,
                              float          *scratch,
                              int             threads,
                              int             first,
                              int             end);

G_END_DECLS

#endif
