#include "perc-resize.h"

typedef struct
{
  int   i0, i1;
  float l0, l1;
} Tap;

/* Source positions along one axis; float arithmetic as PyTorch does it. */
static Tap *
axis_taps (int src, int dst)
{
  Tap  *taps = g_new (Tap, dst);
  float scale = (float) src / (float) dst;

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
perc_resize_bilinear (const float *src,
                      int          src_w,
                      int          src_h,
                      float       *dst,
                      int          dst_w,
                      int          dst_h,
                      gboolean     accumulate)
{
  Tap *xs = axis_taps (src_w, dst_w);
  Tap *ys = axis_taps (src_h, dst_h);

  for (int y = 0; y < dst_h; y++)
    {
      const float *r0 = src + (gsize) ys[y].i0 * src_w;
      const float *r1 = src + (gsize) ys[y].i1 * src_w;
      float       *out = dst + (gsize) y * dst_w;

      for (int x = 0; x < dst_w; x++)
        {
          const Tap *t = &xs[x];
          float      v = ys[y].l0 * (t->l0 * r0[t->i0] + t->l1 * r0[t->i1]) +
                         ys[y].l1 * (t->l0 * r1[t->i0] + t->l1 * r1[t->i1]);

          out[x] = accumulate ? out[x] + v : v;
        }
    }
  g_free (xs);
  g_free (ys);
}
