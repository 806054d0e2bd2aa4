#include <math.h>

#include "ops/perc-difference.h"
#include "ops/perc-vector.h"

/* Squares accumulated plane by plane, so that the inner loops run over
 * contiguous memory.
 */
PERC_VECTOR_CLONES void
perc_inverse_norms (const float *f,
                    int          channels,
                    gsize        n,
                    float       *inv)
{
  for (gsize i = 0; i < n; i++)
    inv[i] = 0.0f;
  for (int c = 0; c < channels; c++)
    {
      const float *p = f + c * n;

      for (gsize i = 0; i < n; i++)
        inv[i] += p[i] * p[i];
    }
  for (gsize i = 0; i < n; i++)
    inv[i] = 1.0f / (sqrtf (inv[i]) + PERC_NORM_EPSILON);
}

PERC_VECTOR_CLONES void
perc_layer_difference (const float *f0,
                       const float *inv0,
                       const float *f1,
                       const float *inv1,
                       int          channels,
                       gsize        n,
                       const float *weights,
                       float       *out)
{
  for (gsize i = 0; i < n; i++)
    out[i] = 0.0f;
  for (int c = 0; c < channels; c++)
    {
      const float *p0 = f0 + c * n, *p1 = f1 + c * n;
      const float  w = weights ? weights[c] : 1.0f;

      for (gsize i = 0; i < n; i++)
        {
          float d = p0[i] * inv0[i] - p1[i] * inv1[i];

          out[i] += w * d * d;
        }
    }
}
