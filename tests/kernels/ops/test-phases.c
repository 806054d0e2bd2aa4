/* Rows split into phases (perc-phases.h) against their definition: every
 * phase of a padded row, zeros outside the input, rows outside the plane
 * all zeros, and nothing written between the phases.
 */
#include <string.h>

#include "ops/perc-phases.h"
#include "support/naive.h"
#include "kernels/unit-tests.h"

/* Between phases: left alone. */
#define GAP -777.0f

static void
test_phases (void)
{
  static const int ms[] = { 1, 2, 3, 4, 6 }, pads[] = { 0, 1, 2, 5 };
  static const int widths[] = { 1, 5, 8, 13, 40 }, rows[] = { -2, -1, 0, 2, 3, 4 };
  const int        h = 4, extra = 3;

  for (guint a = 0; a < G_N_ELEMENTS (ms); a++)
    for (guint b = 0; b < G_N_ELEMENTS (pads); b++)
      for (guint c = 0; c < G_N_ELEMENTS (widths); c++)
        {
          int    m = ms[a], pad = pads[b], w = widths[c];
          float *plane = g_new (float, (gsize) h * w);
          /* Enough places for the padded row, one fewer, and one more. */
          int    full = (w + 2 * pad + m - 1) / m;
          int    nqs[] = { full, MAX (full - 1, 1), full + 1 };

          fill_random (plane, (gsize) h * w, 17 * a + 5 * b + c, -1, 1);
          for (guint q = 0; q < G_N_ELEMENTS (nqs); q++)
            for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
              {
                int    nq = nqs[q];
                gsize  stride = nq + extra, n = m * stride;
                float *got = g_new (float, n), *want = g_new (float, n);

                for (gsize i = 0; i < n; i++)
                  got[i] = want[i] = GAP;
                perc_phases_split_row (plane, h, w, pad, m, nq, rows[r], got, stride);
                naive_split_row (plane, h, w, pad, m, nq, rows[r], want, stride);
                if (memcmp (got, want, n * sizeof (float)))
                  g_error ("m %d, pad %d, width %d, %d places, row %d: phases differ",
                           m, pad, w, nq, rows[r]);
                g_free (got);
                g_free (want);
              }
          g_free (plane);
        }
}

void
add_phases_tests (void)
{
  g_test_add_func ("/kernels/phases", test_phases);
}
