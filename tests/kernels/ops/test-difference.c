/* The LPIPS per-pixel difference (perc-difference.h) against the naive
 * version.
 */
#include <math.h>

#include "ops/perc-difference.h"
#include "support/naive.h"
#include "support/whole-image.h"
#include "kernels/unit-tests.h"

static void
test_difference (void)
{
  const int c = 64, n = 50;
  float    *f0 = g_new (float, c * n), *f1 = g_new (float, c * n);
  float    *w = g_new (float, c), *got = g_new (float, n), *want = g_new (float, n);
  float    *scratch = g_new (float, 2 * n);
  double    mean = 0;

  fill_random (f0, c * n, 11, 0, 3);
  fill_random (f1, c * n, 12, 0, 3);
  fill_random (w, c, 13, 0, 1);
  /* A pixel with all-zero features in one image: its normalised features
   * are zero, as in the reference.
   */
  for (int j = 0; j < c; j++)
    f1[j * n + 7] = 0;

  for (int weighted = 0; weighted < 2; weighted++)
    {
      perc_inverse_norms (f0, c, n, scratch);
      perc_inverse_norms (f1, c, n, scratch + n);
      perc_layer_difference (f0, scratch, f1, scratch + n, c, n, weighted ? w : NULL, got);
      naive_difference (f0, f1, c, n, weighted ? w : NULL, want);
      g_assert_cmpfloat (max_abs_diff (got, want, n), <, 1e-6);
    }
  for (int i = 0; i < n; i++)
    mean += want[i];
  g_assert_cmpfloat (fabs (mean_of (got, n) - mean / n), <, 1e-6);
  /* Unweighted, identical features give 0; a zero pixel against a
   * non-zero one gives exactly 1.
   */
  perc_layer_difference (f0, scratch, f0, scratch, c, n, NULL, got);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat (fabs (got[i]), <, 1e-6);
  perc_layer_difference (f0, scratch, f1, scratch + n, c, n, NULL, got);
  g_assert_cmpfloat (fabs (got[7] - 1.0), <, 1e-6);

  g_free (f0); g_free (f1); g_free (w); g_free (got); g_free (want); g_free (scratch);
}

void
add_difference_tests (void)
{
  g_test_add_func ("/kernels/difference", test_difference);
}
