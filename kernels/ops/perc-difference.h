/* The LPIPS per-pixel difference of one layer's features. */
#ifndef PERC_DIFFERENCE_H
#define PERC_DIFFERENCE_H

#include <glib.h>

G_BEGIN_DECLS

#define PERC_NORM_EPSILON 1e-10f

/* inv[i] = 1 / (|f(i)| + eps) for f of `channels` planes of n floats,
 * |f| the Euclidean norm over channels: one image's share of the
 * difference, which each image's thread can take.
 */
void   perc_inverse_norms    (const float *f,
                              int          channels,
                              gsize        n,
                              float       *inv);

/* f0 and f1 are `channels` planes of n floats, inv0 and inv1 their
 * perc_inverse_norms ().  For each pixel i:
 *   out[i] = sum_c w_c (f0_c / (|f0| + eps) - f1_c / (|f1| + eps))^2
 * with w_c = 1 when weights is NULL.
 */
void   perc_layer_difference (const float *f0,
                              const float *inv0,
                              const float *f1,
                              const float *inv1,
                              int          channels,
                              gsize        n,
                              const float *weights,
                              float       *out);

G_END_DECLS

#endif
