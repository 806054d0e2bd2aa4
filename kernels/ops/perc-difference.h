/* The LPIPS per-pixel difference of one layer's features. */
#ifndef PERC_DIFFERENCE_H
#define PERC_DIFFERENCE_H

#include <glib.h>

G_BEGIN_DECLS

#define PERC_NORM_EPSILON 1e-10f

/* f0 and f1 are `channels` planes of n floats.  For each pixel i:
 *   out[i] = sum_c w_c (f0_c / (|f0| + eps) - f1_c / (|f1| + eps))^2
 * with |f| the Euclidean norm over channels and w_c = 1 when weights is
 * NULL.  scratch holds 2 n floats.
 */
void   perc_layer_difference (const float *f0,
                              const float *f1,
                              int          channels,
                              gsize        n,
                              const float *weights,
                              float       *out,
                              float       *scratch);

G_END_DECLS

#endif
