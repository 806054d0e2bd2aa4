#include <math.h>

#include "perc-pool.h"

/* Each output row: the window's rows reduced into one row first (a loop
 * the compiler vectorises), then the columns.  Windows are clipped to the
 * input, so padding and ceil-mode overhang never win.
 */
void
perc_maxpool (const float *src,
              int          channels,
              int          height,
              int          width,
              int          kernel,
              int          stride,
              int          pad,
              float       *dst,
              int          out_h,
              int          out_w)
{
  float *row = g_new (float, width);

  for (int c = 0; c < channels; c++)
    {
      const float *plane = src + (gsize) c * height * width;
      float       *out = dst + (gsize) c * out_h * out_w;

      for (int y = 0; y < out_h; y++)
        {
          int y0 = MAX (y * stride - pad, 0);
          int y1 = MIN (y * stride - pad + kernel, height);

          for (int x = 0; x < width; x++)
            row[x] = plane[(gsize) y0 * width + x];
          for (int iy = y0 + 1; iy < y1; iy++)
            {
              const float *in = plane + (gsize) iy * width;

              for (int x = 0; x < width; x++)
                row[x] = MAX (row[x], in[x]);
            }
          for (int x = 0; x < out_w; x++)
            {
              int   x0 = MAX (x * stride - pad, 0);
              int   x1 = MIN (x * stride - pad + kernel, width);
              float m = -INFINITY;

              for (int ix = x0; ix < x1; ix++)
                m = MAX (m, row[ix]);
              out[(gsize) y * out_w + x] = m;
            }
        }
    }
  g_free (row);
}
