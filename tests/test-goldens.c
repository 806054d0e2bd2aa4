/* Whole networks against goldens computed by an independent PyTorch
 * implementation (make-goldens.py) with synthetic weights that
 * synth_weights.py regenerates here.
 */
#include <math.h>
#include <json-glib/json-glib.h>

#include "naive.h"
#include "test-util.h"
#include "perc-compare.h"

/* Absolute tolerance, relative for values larger than 1. */
#define TOLERANCE 1e-5

static char *tmpdir;

static gboolean
close_enough (double got, double want)
{
  return fabs (got - want) <= TOLERANCE * MAX (1.0, fabs (want));
}

static float *
floats (JsonArray *a, gsize n, float scale)
{
  float *x;

  g_assert_cmpuint (json_array_get_length (a), ==, n);
  x = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    x[i] = json_array_get_double_element (a, i) * scale;
  return x;
}

static void
check_map (const char *what, const float *got, JsonArray *want, gsize n)
{
  float *w = floats (want, n, 1);
  double err = 0, peak = 0;

  for (gsize i = 0; i < n; i++)
    {
      err = MAX (err, fabs ((double) got[i] - w[i]));
      peak = MAX (peak, fabs (w[i]));
    }
  if (g_test_verbose ())
    g_printerr ("  %s: max abs diff %.3g (values up to %.3g)\n", what, err, peak);
  g_assert_cmpfloat (err, <=, TOLERANCE * MAX (1.0, peak));
  g_free (w);
}

static void
test_case (gconstpointer data)
{
  JsonObject     *c = (JsonObject *) data;
  const char     *network = json_object_get_string_member (c, "network");
  const char     *cal_name = json_object_get_string_member (c, "calibration");
  int             w = json_object_get_int_member (c, "width");
  int             h = json_object_get_int_member (c, "height");
  JsonArray      *layers = json_object_get_array_member (c, "layers");
  JsonArray      *maps = json_object_get_array_member (c, "layer_maps");
  PercCalibration calibration;
  PercModel      *model;
  PercComparer   *comparer;
  PercDistance    d = { 0 };
  GError         *error = NULL;
  char           *path;
  float          *img0, *img1, *map;

  g_assert_true (perc_calibration_from_name (cal_name, &calibration));
  path = synth_model (tmpdir, network, cal_name, json_object_get_int_member (c, "seed"));
  model = perc_model_load (path, &error);
  g_assert_no_error (error);

  img0 = floats (json_object_get_array_member (c, "image0"), (gsize) w * h * 3, 1 / 255.0f);
  img1 = floats (json_object_get_array_member (c, "image1"), (gsize) w * h * 3, 1 / 255.0f);
  comparer = perc_comparer_new (model);
  g_assert_true (perc_comparer_run (comparer, calibration,
                                    &(PercImage) { w, h, 3 * w, img0 },
                                    &(PercImage) { w, h, 3 * w, img1 },
                                    &d, &error));
  g_assert_no_error (error);

  if (g_test_verbose ())
    g_printerr ("  distance %.9g, golden %.9g\n", d.distance,
                json_object_get_double_member (c, "distance"));
  g_assert_true (close_enough (d.distance, json_object_get_double_member (c, "distance")));
  g_assert_cmpint (d.n_layers, ==, json_array_get_length (layers));
  for (int l = 0; l < d.n_layers; l++)
    {
      JsonArray *shape = json_array_get_array_element (
                           json_object_get_array_member (c, "layer_shapes"), l);

      g_assert_true (close_enough (d.terms[l], json_array_get_double_element (layers, l)));
      g_assert_cmpint (d.shapes[l].h, ==, json_array_get_int_element (shape, 0));
      g_assert_cmpint (d.shapes[l].w, ==, json_array_get_int_element (shape, 1));
      check_map ("layer map", d.maps[l], json_array_get_array_element (maps, l),
                 (gsize) d.shapes[l].h * d.shapes[l].w);
    }

  map = g_new (float, (gsize) w * h);
  perc_distance_spatial (&d, w, h, map);
  check_map ("spatial map", map, json_object_get_array_member (c, "spatial"), (gsize) w * h);
  if (json_object_has_member (c, "layer_maps_upsampled"))
    {
      JsonArray *up = json_object_get_array_member (c, "layer_maps_upsampled");

      for (int l = 0; l < d.n_layers; l++)
        {
          perc_distance_layer_map (&d, l, w, h, map);
          check_map ("upsampled layer map", map, json_array_get_array_element (up, l),
                     (gsize) w * h);
        }
    }

  g_free (map);
  g_free (img0);
  g_free (img1);
  perc_distance_clear (&d);
  perc_comparer_free (comparer);
  perc_model_free (model);
  g_free (path);
}

int
main (int argc, char **argv)
{
  JsonParser *parser;
  JsonArray  *cases;
  GError     *error = NULL;
  char       *path;
  int         status;

  g_test_init (&argc, &argv, NULL);
  path = g_test_build_filename (G_TEST_DIST, "goldens", "goldens.json", NULL);
  parser = json_parser_new ();
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                        "cases");
  g_assert_cmpuint (json_array_get_length (cases), >, 0);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      char       *name = g_strdup_printf ("/goldens/%s",
                                          json_object_get_string_member (c, "name"));

      g_test_add_data_func (name, c, test_case);
      g_free (name);
    }
  tmpdir = make_temp_dir ();
  status = g_test_run ();
  remove_dir (tmpdir);
  g_free (tmpdir);
  g_free (path);
  g_object_unref (parser);
  return status;
}
