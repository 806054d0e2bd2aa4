#include <string.h>

#include "ops/perc-phases.h"

static inline void
split_row_m (int          m,
             const float *plane,
             int          height,
             int          width,
             int          pad,
             int          nq,
             int          iy,
             float       *out,
             gsize        stride)
{
  int end = MIN (pad + width, m * nq);

  for (int phase = 0; phase < m; phase++)
    memset (out + phase * stride, 0, nq * sizeof (float));
  if (iy < 0 || iy >= height)
    return;
  plane += (gsize) iy * width - pad;
  /* Whole groups of m samples, then the partial ones at both ends. */
  for (int q = (pad + m - 1) / m; q < end / m; q++)
    for (int phase = 0; phase < m; phase++)
      out[phase * stride + q] = plane[q * m + phase];
  for (int x = pad; x < MIN (end, (pad + m - 1) / m * m); x++)
    out[(x % m) * stride + x / m] = plane[x];
  for (int x = MAX (pad, end / m * m); x < end; x++)
    out[(x % m) * stride + x / m] = plane[x];
}

void
perc_phases_split_row (const float *plane,
                       int          height,
                       int          width,
                       int          pad,
                       int          m,
                       int          nq,
                       int          iy,
                       float       *out,
                       gsize        stride)
{
  PERC_WITH_M (split_row_m, m, plane, height, width, pad, nq, iy, out, stride);
}
