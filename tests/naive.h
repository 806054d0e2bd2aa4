/* Straightforward double-precision versions of the core's kernels, written
 * from the definitions, to test the optimised ones against.
 */
#ifndef NAIVE_H
#define NAIVE_H

#include <glib.h>

void  naive_conv       (const float *src, int c, int h, int w,
                        const float *weight, const float *bias,
                        int out_c, int k, int stride, int pad, gboolean relu,
                        float *dst);
void  naive_maxpool    (const float *src, int c, int h, int w,
                        int k, int stride, int pad, gboolean ceil_mode,
                        float *dst, int *out_h, int *out_w);
void  naive_resize     (const float *src, int sw, int sh,
                        float *dst, int dw, int dh);
void  naive_difference (const float *f0, const float *f1, int c, int n,
                        const float *weights, float *out);

/* Deterministic values in [lo, hi). */
void  fill_random      (float *x, gsize n, guint32 seed, float lo, float hi);
/* Largest |a - b| over n values. */
double max_abs_diff    (const float *a, const float *b, gsize n);

#endif
