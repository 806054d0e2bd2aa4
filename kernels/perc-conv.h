/* 2-D convolution (NCHW, one image) through BLIS. */
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
  const float *weight;         /* [out][in][kernel][kernel]: read to make
                                * winograd_weight or packed_weight, NULL
                                * in a loaded model */
  const float *bias;           /* [out] */
  int          winograd_m;     /* 0, or Winograd blocks of m x m outputs */
  const float *winograd_weight;/* the weights transformed for them */
  const float *packed_weight;  /* the weights packed for BLIS's micro-kernel
                                * (perc_conv_pack ()): needed unless
                                * winograd_m is set */
} PercConv;

/* Floats to allocate for the packed weights of conv. */
gsize perc_conv_packed_size  (const PercConv *conv);

/* Packs conv's weights into dst for packed_weight; returns where they
 * start (aligned).  The packing is that of the kernels BLIS runs in this
 * process: call it after perc_blis_configure ().
 */
const float *perc_conv_pack  (const PercConv *conv,
                              float          *dst);

/* Floats of scratch memory perc_conv_forward needs for an h x w input. */
gsize perc_conv_scratch_size (const PercConv *conv,
                              int             height,
                              int             width);

/* dst receives out_channels planes of out_h x out_w floats, where out_h and
 * out_w are the usual (size + 2 pad - kernel) / stride + 1.  Runs in the
 * calling thread.
 */
void  perc_conv_forward      (const PercConv *conv,
                              const float    *src,
                              int             height,
                              int             width,
                              float          *dst,
                              float          *scratch);

/* Output rows [first, end) alone, the rest of dst untouched: threads can
 * share one convolution, each with its own scratch.
 */
void  perc_conv_forward_rows (const PercConv *conv,
                              const float    *src,
                              int             height,
                              int             width,
                              float          *dst,
                              float          *scratch,
                              int             first,
                              int             end);

/* Input row iy of an h x w plane with `pad` zeros on every side, split
 * into m phases: out[phase * stride + q] is the sample at x = q m + phase
 * - pad, for q < nq; zero outside the input.  Strided convolutions and
 * Winograd's blocks read the phases as contiguous rows.
 */
void  perc_conv_split_row    (const float    *plane,
                              int             height,
                              int             width,
                              int             pad,
                              int             m,
                              int             nq,
                              int             iy,
                              float          *out,
                              gsize           stride);

G_END_DECLS

#endif
