/* Images as the core takes them (perc-image.h): the network input against
 * its definition, with and without LPIPS's scaling; NaN and infinite
 * values refused, naming the pixel; what lies past a row's pixels never
 * read.
 */
#include <math.h>
#include <string.h>

#include "perc-error.h"
#include "run/perc-image.h"
#include "support/naive.h"
#include "kernels/unit-tests.h"

static void
test_image_input (void)
{
  static const struct { int w, h, pad; } cases[] = { { 1, 1, 0 }, { 7, 5, 2 }, { 33, 20, 9 } };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      int       w = cases[i].w, h = cases[i].h;
      gsize     stride = 3 * w + cases[i].pad, n = (gsize) w * h;
      float    *rgb = g_new (float, stride * h), *got = g_new (float, 3 * n);
      double   *want = g_new (double, 3 * n);
      PercImage image = { w, h, stride, rgb };
      GError   *error = NULL;

      fill_random (rgb, stride * h, 60 + i, 0, 1);
      /* Past each row's pixels: never read. */
      for (int y = 0; y < h; y++)
        for (gsize x = 3 * w; x < stride; x++)
          rgb[y * stride + x] = NAN;
      g_assert_true (perc_image_check (&image, &error));
      g_assert_no_error (error);
      for (int scaling = 0; scaling < 2; scaling++)
        {
          double err = 0;

          perc_image_to_input (&image, scaling, got);
          naive_image_input (rgb, w, h, stride, scaling, want);
          for (gsize j = 0; j < 3 * n; j++)
            err = MAX (err, fabs (got[j] - want[j]));
          if (g_test_verbose ())
            g_printerr ("  %dx%d%s: max abs diff %.3g\n", w, h, scaling ? ", scaled" : "", err);
          g_assert_cmpfloat (err, <=, 2e-6);
        }
      g_free (rgb); g_free (got); g_free (want);
    }
}

static void
test_image_check (void)
{
  const int w = 6, h = 4;
  float    *rgb = g_new0 (float, 3 * w * h);
  PercImage image = { w, h, 3 * w, rgb };
  GError   *error = NULL;

  rgb[3 * (w * 2 + 5) + 1] = NAN;
  g_assert_false (perc_image_check (&image, &error));
  g_assert_error (error, PERC_ERROR, PERC_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "NaN value at pixel (5, 2)"));
  g_clear_error (&error);
  rgb[3 * (w * 2 + 5) + 1] = 0;
  rgb[3 * (w * 3 + 0) + 2] = -INFINITY;
  g_assert_false (perc_image_check (&image, &error));
  g_assert_error (error, PERC_ERROR, PERC_ERROR_INPUT);
  g_assert_nonnull (strstr (error->message, "infinite value at pixel (0, 3)"));
  g_clear_error (&error);
  /* Finite values, however large, are for the network to take. */
  rgb[3 * (w * 3 + 0) + 2] = 3e38f;
  g_assert_true (perc_image_check (&image, &error));
  g_assert_no_error (error);
  g_free (rgb);
}

void
add_image_tests (void)
{
  g_test_add_func ("/kernels/image-input", test_image_input);
  g_test_add_func ("/kernels/image-check", test_image_check);
}
