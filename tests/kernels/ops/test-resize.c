/* Bilinear resampling (perc-resize.h) against the naive version of
 * PyTorch's definition, whole and region by region.
 */
#include <string.h>

#include "ops/perc-resize.h"
#include "support/naive.h"
#include "support/whole-image.h"
#include "kernels/unit-tests.h"

static void
test_resize (void)
{
  static const struct { int sw, sh, dw, dh; } cases[] = {
    { 7, 5, 47, 39 }, { 1, 1, 10, 3 }, { 3, 3, 3, 3 }, { 31, 31, 64, 64 },
    { 10, 9, 4, 3 }, { 2, 15, 33, 50 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize          ns = (gsize) cases[i].sw * cases[i].sh;
      gsize          nd = (gsize) cases[i].dw * cases[i].dh;
      float         *src = g_new (float, ns), *got = g_new (float, nd), *want = g_new (float, nd);
      float         *parts = g_new (float, nd);
      PercResizeTap *xs = perc_resize_taps (cases[i].sw, cases[i].dw);
      PercResizeTap *ys = perc_resize_taps (cases[i].sh, cases[i].dh);

      fill_random (src, ns, 3 + i, 0, 2);
      naive_resize (src, cases[i].sw, cases[i].sh, want, cases[i].dw, cases[i].dh);
      perc_resize_region (src, 0, 0, cases[i].sw, xs, ys, 0, 0, cases[i].dw, cases[i].dh,
                          got, FALSE);
      g_assert_cmpfloat (max_abs_diff (got, want, nd), <, 1e-6);
      /* Region by region, each from the window of the source its taps
       * read (as the tiled path does): the whole, bit for bit.
       */
      for (int y0 = 0; y0 < cases[i].dh; y0 += 7)
        for (int x0 = 0; x0 < cases[i].dw; x0 += 5)
          {
            int    w = MIN (5, cases[i].dw - x0), h = MIN (7, cases[i].dh - y0);
            int    sx = xs[x0].i0, sy = ys[y0].i0;
            float *region = g_new (float, (gsize) w * h);

            perc_resize_region (src + (gsize) sy * cases[i].sw + sx, sx, sy, cases[i].sw,
                                xs, ys, x0, y0, w, h, region, FALSE);
            for (int y = 0; y < h; y++)
              memcpy (parts + (gsize) (y0 + y) * cases[i].dw + x0, region + (gsize) y * w,
                      w * sizeof (float));
            g_free (region);
          }
      g_assert_cmpmem (parts, nd * sizeof (float), got, nd * sizeof (float));
      /* Accumulating adds the same map again. */
      perc_resize_region (src, 0, 0, cases[i].sw, xs, ys, 0, 0, cases[i].dw, cases[i].dh,
                          got, TRUE);
      for (gsize j = 0; j < nd; j++)
        want[j] *= 2;
      g_assert_cmpfloat (max_abs_diff (got, want, nd), <, 2e-6);
      /* The tests' whole-map resampling is the same. */
      resize_bilinear (src, cases[i].sw, cases[i].sh, parts, cases[i].dw, cases[i].dh, FALSE);
      resize_bilinear (src, cases[i].sw, cases[i].sh, parts, cases[i].dw, cases[i].dh, TRUE);
      g_assert_cmpmem (parts, nd * sizeof (float), got, nd * sizeof (float));
      g_free (src); g_free (got); g_free (want); g_free (parts);
      g_free (xs); g_free (ys);
    }
}

void
add_resize_tests (void)
{
  g_test_add_func ("/kernels/resize", test_resize);
}
