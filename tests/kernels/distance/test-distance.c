/* What perc-distance.h parses and names: layer lists, both ways, and the
 * distance functions' names.
 */
#include <string.h>

#include "distance/perc-distance.h"
#include "perc-error.h"
#include "kernels/unit-tests.h"

static void
test_layers (void)
{
  static const struct { const char *text; guint layers; } good[] = {
    { NULL, 0 }, { "", 0 }, { "3", 1u << 2 }, { "2,3,4", 0xe }, { " 1 , 8 ", 0x81 },
    { "4,4,1", 0x9 },
  };
  static const char *const bad[] = { "0", "9", "x", "1,,2", "1;2", "-1", "2,", "1.5" };
  GError *error = NULL;
  guint   layers;

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_assert_true (perc_layers_parse (good[i].text, NULL, &layers, &error));
      g_assert_no_error (error);
      g_assert_cmphex (layers, ==, good[i].layers);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      layers = 7;
      g_assert_false (perc_layers_parse (bad[i], NULL, &layers, &error));
      g_assert_error (error, PERC_ERROR, PERC_ERROR_INPUT);
      g_assert_nonnull (strstr (error->message, "is not a list of layer numbers from 1 to 8"));
      g_assert_cmphex (layers, ==, 0);
      g_clear_error (&error);
    }
  /* Every mask, formatted and parsed back. */
  for (guint mask = 0; mask < 1u << PERC_MAX_TAPS; mask++)
    {
      char *text = perc_layers_format (mask);

      g_assert_true (perc_layers_parse (text, NULL, &layers, NULL));
      g_assert_cmphex (layers, ==, mask);
      g_free (text);
    }
  {
    char *text = perc_layers_format (0xe);

    g_assert_cmpstr (text, ==, "2,3,4");
    g_free (text);
  }
}

static void
test_kind_names (void)
{
  g_assert_cmpstr (perc_distance_kind_name (PERC_DISTANCE_SPATIAL), ==, "spatial");
  g_assert_cmpstr (perc_distance_kind_name (PERC_DISTANCE_MEAN_POOL), ==, "mean-pool");
  g_assert_cmpstr (perc_distance_kind_name (PERC_DISTANCE_STYLE), ==, "style");
}

void
add_distance_tests (void)
{
  g_test_add_func ("/distance/layers", test_layers);
  g_test_add_func ("/distance/kind-names", test_kind_names);
}
