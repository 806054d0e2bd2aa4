/* BLIS's micro-kernel as the core calls it (perc-microkernel.h): packed
 * weights laid out as documented, and tiles, whole and cut at the edges,
 * with and without bias and ReLU, against the naive product; nothing
 * outside a tile written.
 */
#include <math.h>

#include "ops/perc-microkernel.h"
#include "support/naive.h"
#include "support/test-core.h"
#include "kernels/unit-tests.h"

#define UNTOUCHED -999.0f

static void
test_microkernel_tiles (void)
{
  const PercMicrokernel *k = test_microkernel ();
  const int              depths[] = { 1, 7, 64, 150 };
  char                  *what = perc_microkernel_describe (k);

  if (g_test_verbose ())
    g_printerr ("  %s\n", what);
  g_assert_true (g_str_has_prefix (what, "BLIS "));
  g_free (what);
  g_assert_cmpint (k->pixels, >, 0);
  g_assert_cmpint (k->outputs, >, 0);

  for (guint di = 0; di < G_N_ELEMENTS (depths); di++)
    {
      int    depth = depths[di];
      int    rows = 2 * k->outputs + 3;         /* three panels, the last partial */
      gsize  panel = perc_microkernel_panel_floats (k->outputs, depth);
      gsize  image_panel = perc_microkernel_panel_floats (k->pixels, depth);
      float *weights = g_new (float, (gsize) rows * depth), *bias = g_new (float, rows);
      float *packed_mem = g_new (float, perc_microkernel_weights_size (k, rows, depth));
      float *image_mem = g_new (float, image_panel + PERC_MICROKERNEL_ALIGN);
      float *image = perc_microkernel_align (image_mem), *packed;
      gsize  ldc = k->pixels + 5;
      float *c = g_new (float, (gsize) k->outputs * ldc);
      double *want = g_new (double, (gsize) k->outputs * ldc);

      g_assert_cmpuint (panel % PERC_MICROKERNEL_ALIGN, ==, 0);
      g_assert_cmpuint (panel, >=, (gsize) k->outputs * depth);
      g_assert_cmpuint (perc_microkernel_packed_floats (k, rows, depth), ==, 3 * panel);
      fill_random (weights, (gsize) rows * depth, 40 + di, -1, 1);
      fill_random (image, (gsize) k->pixels * depth, 50 + di, -1, 1);
      fill_random (bias, rows, 60 + di, -1, 1);

      /* Panels of k->outputs rows, depth steps of them; zeros past the
       * last row.
       */
      packed = perc_microkernel_pack_weights (k, weights, rows, depth, packed_mem);
      g_assert_true (packed == perc_microkernel_align (packed_mem));
      g_assert_cmpuint ((guintptr) packed % (PERC_MICROKERNEL_ALIGN * sizeof (float)), ==, 0);
      for (int o = 0; o < 3 * k->outputs; o++)
        for (int d = 0; d < depth; d++)
          g_assert_cmpfloat (packed[o / k->outputs * panel + (gsize) d * k->outputs + o % k->outputs],
                             ==, o < rows ? weights[(gsize) o * depth + d] : 0.0f);

      /* Every panel, whole tiles and tiles cut to fewer rows or columns,
       * or starting at a later row of the panel; no bias, bias, bias and
       * ReLU.
       */
      for (int p = 0; p < 3; p++)
        for (int cut = 0; cut < 24; cut++)
          {
            int skip = cut & 4 ? MIN (2, rows - p * k->outputs - 1) : 0;
            int finish = cut / 8;
            int tile_rows = MIN (k->outputs, rows - p * k->outputs) - skip;
            int tile_cols = k->pixels;

            if (cut & 1)
              tile_rows = MAX (1, tile_rows - 1);
            if (cut & 2)
              tile_cols = MAX (1, tile_cols / 2);
            for (gsize i = 0; i < (gsize) k->outputs * ldc; i++)
              c[i] = UNTOUCHED;
            perc_microkernel_tile (k, depth, image, packed + p * panel, c, ldc, skip, tile_rows,
                                   tile_cols, finish ? bias + p * k->outputs + skip : NULL,
                                   finish == 2);
            naive_product (weights + ((gsize) p * k->outputs + skip) * depth, image, tile_rows,
                           tile_cols, depth, k->pixels, want, ldc);
            for (int o = 0; o < k->outputs; o++)
              for (gsize x = 0; x < ldc; x++)
                {
                  float  got = c[o * ldc + x];
                  double w = want[o * ldc + x];

                  if (o < tile_rows && x < (gsize) tile_cols)
                    {
                      if (finish)
                        w += bias[p * k->outputs + skip + o];
                      if (finish == 2)
                        w = MAX (w, 0.0);
                      g_assert_cmpfloat (fabs (got - w), <=, 1e-5 * depth);
                    }
                  else
                    g_assert_cmpfloat (got, ==, UNTOUCHED);
                }
          }
      g_free (weights); g_free (bias); g_free (packed_mem); g_free (image_mem); g_free (c); g_free (want);
    }
}

void
add_microkernel_tests (void)
{
  g_test_add_func ("/kernels/microkernel", test_microkernel_tiles);
}
