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
/* c[o * ldc + x] = sum over d of weights[o][d] image[d][x], for o < rows,
 * x < cols; image rows are `image_stride` floats apart.
 */
void  naive_product    (const float *weights, const float *image, int rows,
                        int cols, int depth, gsize image_stride,
                        double *c, gsize ldc);
/* Input row iy of an h x w plane padded by `pad` zeros, split into m
 * phases: out[phase * stride + q] = the sample at x = q m + phase - pad.
 */
void  naive_split_row  (const float *plane, int h, int w, int pad, int m,
                        int nq, int iy, float *out, gsize stride);
/* The network input of an interleaved RGB image: x = 2 v - 1, then with
 * `scaling` LPIPS's (x - shift) / scale per channel; 3 planes of w x h.
 */
void  naive_image_input (const float *rgb, int w, int h, gsize rowstride,
                         gboolean scaling, double *dst);
/* The mean-pool and style terms of one layer (perc-layer-stats.h) of
 * two images' features, c planes of n floats each.
 */
double naive_mean_pool_term (const float *f0, const float *f1, int c, gsize n);
double naive_style_term     (const float *f0, const float *f1, int c, gsize n);

/* Deterministic values in [lo, hi). */
void  fill_random      (float *x, gsize n, guint32 seed, float lo, float hi);
/* Largest |a - b| over n values. */
double max_abs_diff    (const float *a, const float *b, gsize n);

#endif
