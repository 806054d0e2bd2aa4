/* Memory plans (perc-arena.h) against their definition. */
#include "run/perc-arena.h"
#include "kernels/unit-tests.h"

/* Plans against the definition: blocks live at the same step never share
 * memory, and the arena lies between the most memory live at one step
 * and the sum of all blocks.
 */
static void
test_arena (void)
{
  PercBlock chain[3] = { { 10, 0, 1, 0 }, { 10, 1, 2, 0 }, { 10, 2, 3, 0 } };
  GRand    *rand = g_rand_new_with_seed (7);

  /* The third block reuses the first one's memory. */
  g_assert_cmpuint (perc_arena_plan (chain, 3), ==, 20);
  g_assert_cmpuint (chain[2].offset, ==, chain[0].offset);

  for (int trial = 0; trial < 200; trial++)
    {
      int        n = g_rand_int_range (rand, 1, 40);
      PercBlock *b = g_new (PercBlock, n);
      gsize      total, sum = 0, peak = 0;

      for (int i = 0; i < n; i++)
        {
          int first = g_rand_int_range (rand, 0, 30);

          b[i] = (PercBlock) { g_rand_int_range (rand, 0, 5) ? g_rand_int_range (rand, 1, 1000) : 0,
                               first, first + g_rand_int_range (rand, 0, 8), G_MAXSIZE };
          sum += b[i].size;
        }
      total = perc_arena_plan (b, n);
      for (int t = 0; t < 40; t++)
        {
          gsize live = 0;

          for (int i = 0; i < n; i++)
            live += b[i].first <= t && t <= b[i].last ? b[i].size : 0;
          peak = MAX (peak, live);
        }
      for (int i = 0; i < n; i++)
        {
          g_assert_cmpuint (b[i].offset + b[i].size, <=, total);
          for (int j = 0; j < i; j++)
            if (b[i].size && b[j].size && b[i].first <= b[j].last && b[j].first <= b[i].last)
              g_assert_true (b[i].offset + b[i].size <= b[j].offset ||
                             b[j].offset + b[j].size <= b[i].offset);
        }
      g_assert_cmpuint (total, >=, peak);
      g_assert_cmpuint (total, <=, sum);
      g_free (b);
    }
  g_rand_free (rand);
}

void
add_arena_tests (void)
{
  g_test_add_func ("/kernels/arena", test_arena);
}
