/* The mean-pool and style statistics (perc-layer-stats.h) against their
 * definitions: the whole layer, and regions added in any order (and empty
 * ones) giving the same term; more positions than one chunk of the Gram
 * product; a reset reusing the memory for another kind or size.
 */
#include <math.h>

#include "distance/perc-layer-stats.h"
#include "support/naive.h"
#include "kernels/unit-tests.h"

typedef struct { int x0, y0, x1, y1; } Region;

static double
term (PercLayerStats *s, PercLayerStatsKind kind, int c, const float *f0,
      const float *f1, int w, int h, const Region *regions, int n_regions)
{
  perc_layer_stats_reset (s, kind, c);
  for (int i = 0; i < n_regions; i++)
    perc_layer_stats_add (s, 0, f0, w, h, regions[i].x0, regions[i].y0,
                          regions[i].x1, regions[i].y1);
  /* The other image's regions in the other order. */
  for (int i = n_regions - 1; i >= 0; i--)
    perc_layer_stats_add (s, 1, f1, w, h, regions[i].x0, regions[i].y0,
                          regions[i].x1, regions[i].y1);
  return perc_layer_stats_term (s);
}

static void
test_layer_stats (void)
{
  static const struct { int c, w, h; } cases[] = {
    { 5, 9, 7 }, { 2, 4, 3 }, { 3, 50, 45 },      /* 2250 positions: two chunks */
  };
  PercLayerStats stats = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (PercLayerStatsKind kind = PERC_LAYER_STATS_MEAN; kind <= PERC_LAYER_STATS_STYLE; kind++)
      {
        int    c = cases[i].c, w = cases[i].w, h = cases[i].h;
        gsize  n = (gsize) w * h;
        float *f0 = g_new (float, c * n), *f1 = g_new (float, c * n);
        Region whole = { 0, 0, w, h };
        Region parts[] = { { 0, 0, w / 2, h / 3 }, { w / 2, 0, w, h / 3 }, { 3, 3, 3, h },
                           { 0, h / 3, w, h } };
        double want, got, split;

        fill_random (f0, c * n, 70 + i, -1, 2);
        fill_random (f1, c * n, 80 + i, 0, 1);
        want = kind == PERC_LAYER_STATS_MEAN ? naive_mean_pool_term (f0, f1, c, n)
                                             : naive_style_term (f0, f1, c, n);
        got = term (&stats, kind, c, f0, f1, w, h, &whole, 1);
        split = term (&stats, kind, c, f0, f1, w, h, parts, G_N_ELEMENTS (parts));
        if (g_test_verbose ())
          g_printerr ("  %s %d x %dx%d: %.12g, split %.12g, naive %.12g\n",
                      kind == PERC_LAYER_STATS_MEAN ? "mean-pool" : "style", c, w, h,
                      got, split, want);
        g_assert_cmpfloat (want, >, 0);
        g_assert_cmpuint (stats.positions[0], ==, n);
        g_assert_cmpuint (stats.positions[1], ==, n);
        g_assert_cmpfloat (fabs (got - want), <=, 1e-9 * want);
        g_assert_cmpfloat (fabs (split - got), <=, 1e-12 * got);
        /* Identical features: zero. */
        g_assert_cmpfloat (fabs (term (&stats, kind, c, f0, f0, w, h, &whole, 1)), <=, 1e-15);
        g_free (f0);
        g_free (f1);
      }
  perc_layer_stats_clear (&stats);
}

void
add_layer_stats_tests (void)
{
  g_test_add_func ("/kernels/layer-stats", test_layer_stats);
}
