#include <math.h>

#include "ops/perc-maxpool.h"

/* Each output row: the window's rows reduced into one row first (a loop
 * the compiler vectorises), then the columns.  Windows are clipped to the
 * input, so padding and ceil-mode overhang never win.
 */

/* The largest of the window [x0, x0 + kernel) clipped to the row. */
static inline float
clipped (const float *row,
         int          width,
         int          x0,
         int          kernel)
{
  float m = -INFINITY;

  for (int ix = MAX (x0, 0); ix < MIN (x0 + kernel, width); ix++)
    m = MAX (m, row[ix]);
  return m;
}

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
  /* Outputs [inner0, inner1) have their whole window inside the row. */
  int    inner0 = MIN ((pad + stride - 1) / stride, out_w);
  int    inner1 = width + pad < kernel ? inner0 :
                  CLAMP ((width + pad - kernel) / stride + 1, inner0, out_w);

  for (int c = 0; c < channels; c++)
    {
      const float *plane = src + (gsize) c * height * width;
      float       *out = dst + (gsize) c * out_h * out_w;

      for (int y = 0; y < out_h; y++)
        {
          float *o = out + (gsize) y * out_w;
          int    y0 = MAX (y * stride - pad, 0);
          int    y1 = MIN (y * stride - pad + kernel, height);

          for (int x = 0; x < width; x++)
            row[x] = plane[(gsize) y0 * width + x];
          for (int iy = y0 + 1; iy < y1; iy++)
            {
              const float *in = plane + (gsize) iy * width;

              for (int x = 0; x < width; x++)
                row[x] = MAX (row[x], in[x]);
            }
          /* Whole windows a tap at a time, so that the compiler
           * vectorises across outputs; clipped ones at the borders.
           */
          for (int x = inner0; x < inner1; x++)
            o[x] = row[x * stride - pad];
          for (int k = 1; k < kernel; k++)
            for (int x = inner0; x < inner1; x++)
              o[x] = MAX (o[x], row[x * stride - pad + k]);
          for (int x = 0; x < inner0; x++)
            o[x] = clipped (row, width, x * stride - pad, kernel);
          for (int x = inner1; x < out_w; x++)
            o[x] = clipped (row, width, x * stride - pad, kernel);
        }
    }
  g_free (row);
}
