#include <math.h>
#include <string.h>

#include "ops/perc-maxpool.h"
#include "ops/perc-vector.h"

/* Each output row: the window's rows reduced into one row first (loops
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

/* The window's rows reduced into one: three at a time, so that each
 * pass writes the row once.
 */
static inline void
rows_max (const float *in,
          int          width,
          int          rows,
          float       *row)
{
  const float *a = in, *b = in + width, *c = in + 2 * width;
  int          done = MIN (rows, 3);

  if (rows >= 3)
    for (int x = 0; x < width; x++)
      row[x] = MAX (MAX (a[x], b[x]), c[x]);
  else if (rows == 2)
    for (int x = 0; x < width; x++)
      row[x] = MAX (a[x], b[x]);
  else
    memcpy (row, a, width * sizeof (float));
  for (in += (gsize) done * width; done < rows; done++, in += width)
    for (int x = 0; x < width; x++)
      row[x] = MAX (row[x], in[x]);
}

/* Whole windows [x0, x1) of a row: the networks' shapes with the kernel
 * and stride constant, so that the compiler vectorises the strided
 * loads; others a tap at a time, across outputs.
 */
static inline void
whole_windows (const float *row,
               int          kernel,
               int          stride,
               int          pad,
               int          x0,
               int          x1,
               float       *o)
{
  if (kernel == 3 && stride == 2)
    for (int x = x0; x < x1; x++)
      o[x] = MAX (MAX (row[2 * x - pad], row[2 * x - pad + 1]), row[2 * x - pad + 2]);
  else if (kernel == 2 && stride == 2)
    for (int x = x0; x < x1; x++)
      o[x] = MAX (row[2 * x - pad], row[2 * x - pad + 1]);
  else
    {
      for (int x = x0; x < x1; x++)
        o[x] = row[x * stride - pad];
      for (int k = 1; k < kernel; k++)
        for (int x = x0; x < x1; x++)
          o[x] = MAX (o[x], row[x * stride - pad + k]);
    }
}

PERC_VECTOR_CLONES void
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

          rows_max (plane + (gsize) y0 * width, width, y1 - y0, row);
          whole_windows (row, kernel, stride, pad, inner0, inner1, o);
          for (int x = 0; x < inner0; x++)
            o[x] = clipped (row, width, x * stride - pad, kernel);
          for (int x = inner1; x < out_w; x++)
            o[x] = clipped (row, width, x * stride - pad, kernel);
        }
    }
  g_free (row);
}
