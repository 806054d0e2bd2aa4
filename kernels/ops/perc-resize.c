#include "ops/perc-resize.h"

/* Float arithmetic as PyTorch does it, so that positions match exactly. */
PercResizeTap *
perc_resize_taps (int src,
                  int dst)
{
  PercResizeTap *taps = g_new (PercResizeTap, dst);
  float          scale = (float) src / (float) dst;

  for (int i = 0; i < dst; i++)
    {
      float s = MAX (scale * (i + 0.5f) - 0.5f, 0.0f);
      int   i0 = MIN ((int) s, src - 1);

      taps[i].i0 = i0;
      taps[i].i1 = i0 + (i0 < src - 1);
      taps[i].l1 = s - i0;
      taps[i].l0 = 1.0f - taps[i].l1;
    }
  return taps;
}

void
perc_resize_region (const float         *window,
                    int                  sx,
                    int                  sy,
                    gsize                stride,
                    const PercResizeTap *xs,
                    const PercResizeTap *ys,
                    int                  x0,
                    int                  y0,
                    int                  w,
                    int                  h,
                    float               *dst,
                    gboolean             accumulate)
{
  for (int y = 0; y < h; y++)
    {
      const PercResizeTap *ty = &ys[y0 + y];
      const float         *r0 = window + (gsize) (ty->i0 - sy) * stride - sx;
      const float         *r1 = window + (gsize) (ty->i1 - sy) * stride - sx;
      float               *out = dst + (gsize) y * w;

      for (int x = 0; x < w; x++)
        {
          const PercResizeTap *t = &xs[x0 + x];
          float                v = ty->l0 * (t->l0 * r0[t->i0] + t->l1 * r0[t->i1]) +
                                   ty->l1 * (t->l0 * r1[t->i0] + t->l1 * r1[t->i1]);

          out[x] = accumulate ? out[x] + v : v;
        }
    }
}
