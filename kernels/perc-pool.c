#include <math.h>

#include "perc-pool.h"

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
  for (int c = 0; c < channels; c++)
    {
      const float *plane = src + (gsize) c * height * width;
      float       *out = dst + (gsize) c * out_h * out_w;

      for (int y = 0; y < out_h; y++)
        {
          int y0 = MAX (y * stride - pad, 0);
          int y1 = MIN (y * stride - pad + kernel, height);

          for (int x = 0; x < out_w; x++)
            {
              int   x0 = MAX (x * stride - pad, 0);
              int   x1 = MIN (x * stride - pad + kernel, width);
              float m = -INFINITY;

              for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                  m = MAX (m, plane[(gsize) iy * width + ix]);
              out[(gsize) y * out_w + x] = m;
            }
        }
    }
}
