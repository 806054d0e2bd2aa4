/* Whole networks against goldens computed by an independent PyTorch
 * implementation (make-goldens.py: goldens.json, resnet.json) with
 * synthetic weights that synth_weights.py regenerates here.
 */
#include <math.h>
#include <json-glib/json-glib.h>

#include "support/naive.h"
#include "support/test-core.h"
#include "support/test-util.h"
#include "support/whole-image.h"

/* Absolute tolerance, relative for values larger than 1. */
#define TOLERANCE 1e-5

static const char *tmpdir;

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
  Comparer       *comparer;
  PercDistance    d = { 0 };
  GError         *error = NULL;
  char           *path;
  float          *img0, *img1, *map;

  g_assert_true (perc_calibration_from_name (cal_name, &calibration));
  path = synth_model (tmpdir, network, cal_name, json_object_get_int_member (c, "seed"));
  model = perc_model_load (path, test_microkernel (), &error);
  g_assert_no_error (error);

  img0 = floats (json_object_get_array_member (c, "image0"), (gsize) w * h * 3, 1 / 255.0f);
  img1 = floats (json_object_get_array_member (c, "image1"), (gsize) w * h * 3, 1 / 255.0f);
  comparer = comparer_new (model);
  g_assert_true (comparer_run (comparer, &(PercMetric) { calibration, PERC_DISTANCE_SPATIAL, 0 },
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
  spatial_map (&d, w, h, map);
  check_map ("spatial map", map, json_object_get_array_member (c, "spatial"), (gsize) w * h);
  if (json_object_has_member (c, "layer_maps_upsampled"))
    {
      JsonArray *up = json_object_get_array_member (c, "layer_maps_upsampled");

      for (int l = 0; l < d.n_layers; l++)
        {
          layer_map (&d, l, w, h, map);
          check_map ("upsampled layer map", map, json_array_get_array_element (up, l),
                     (gsize) w * h);
        }
    }

  g_free (map);
  g_free (img0);
  g_free (img1);
  perc_distance_clear (&d);
  comparer_free (comparer);
  perc_model_free (model);
  g_free (path);
}

/* Relative tolerance for values that may be far below 1. */
static void
check_relative (const char *what, double got, double want)
{
  if (g_test_verbose ())
    g_printerr ("  %s: %.9g, golden %.9g\n", what, got, want);
  g_assert_cmpfloat (fabs (got - want), <=, TOLERANCE * fabs (want) + 1e-12);
}

static void
check_terms (const char *what, const PercDistance *d, JsonObject *c,
             const char *distance, const char *terms)
{
  JsonArray *t = json_object_get_array_member (c, terms);

  check_relative (what, d->distance, json_object_get_double_member (c, distance));
  g_assert_cmpint (d->n_layers, ==, json_array_get_length (t));
  for (int l = 0; l < d->n_layers; l++)
    check_relative ("  term", d->terms[l], json_array_get_double_element (t, l));
}

/* The study's networks and distances (resnet.json): every tap's raw
 * features, the spatial distance with the default and with all layers,
 * and the mean-pool and style distances.
 */
static void
test_study_case (gconstpointer data)
{
  JsonObject     *c = (JsonObject *) data;
  const char     *cal_name = json_object_get_string_member (c, "calibration");
  int             w = json_object_get_int_member (c, "width");
  int             h = json_object_get_int_member (c, "height");
  JsonArray      *features = json_object_get_array_member (c, "features0");
  JsonArray      *defaults = json_object_get_array_member (c, "default_layers");
  PercMetric      metric = { 0 };
  PercModel      *model;
  Comparer       *comparer;
  PercDistance    d = { 0 };
  GError         *error = NULL;
  PercImage       a, b;
  guint           layers = 0;
  char           *path;
  float          *img0, *img1, *map;

  g_assert_true (perc_calibration_from_name (cal_name, &metric.calibration));
  path = synth_resnet (tmpdir, json_object_get_string_member (c, "network"),
                       json_object_get_string_member (c, "resnet_block"),
                       json_object_get_string_member (c, "resnet_blocks"),
                       cal_name, json_object_get_int_member (c, "seed"));
  model = perc_model_load (path, test_microkernel (), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (defaults); i++)
    layers |= 1u << (json_array_get_int_element (defaults, i) - 1);
  g_assert_cmphex (model->net->default_layers, ==, layers);

  img0 = floats (json_object_get_array_member (c, "image0"), (gsize) w * h * 3, 1 / 255.0f);
  img1 = floats (json_object_get_array_member (c, "image1"), (gsize) w * h * 3, 1 / 255.0f);
  a = (PercImage) { w, h, 3 * w, img0 };
  b = (PercImage) { w, h, 3 * w, img1 };
  comparer = comparer_new (model);

  /* Features at every tap. */
  g_assert_true (perc_extractor_run (comparer->extractor, &a,
                                     perc_calibration_scales (metric.calibration),
                                     comparer->features[0], &error));
  g_assert_no_error (error);
  g_assert_cmpint (comparer->features[0]->n_taps, ==, json_array_get_length (features));
  for (int l = 0; l < comparer->features[0]->n_taps; l++)
    {
      const PercShape *s = &comparer->features[0]->shapes[l];

      check_map ("features", comparer->features[0]->data[l],
                 json_array_get_array_element (features, l), (gsize) s->c * s->h * s->w);
    }

  /* Spatial, default layers, then all of them. */
  g_assert_true (comparer_run (comparer, &metric, &a, &b, &d, &error));
  g_assert_no_error (error);
  check_terms ("spatial distance", &d, c, "distance", "layers");
  map = g_new (float, (gsize) w * h);
  spatial_map (&d, w, h, map);
  check_map ("spatial map", map, json_object_get_array_member (c, "spatial"), (gsize) w * h);
  for (int l = 0; l < d.n_layers; l++)
    check_map ("layer map", d.maps[l],
               json_array_get_array_element (json_object_get_array_member (c, "layer_maps"), l),
               (gsize) d.shapes[l].h * d.shapes[l].w);
  metric.layers = (1u << d.n_layers) - 1;
  g_assert_true (comparer_run (comparer, &metric, &a, &b, &d, &error));
  spatial_map (&d, w, h, map);
  check_map ("spatial map, all layers", map,
             json_object_get_array_member (c, "spatial_all_taps"), (gsize) w * h);

  /* The pooled distances are unweighted: a v0.0 file's unscaled input
   * cannot be asked for.
   */
  if (metric.calibration != PERC_CALIBRATION_LPIPS_V0_0)
    {
      metric = (PercMetric) { PERC_CALIBRATION_UNWEIGHTED, PERC_DISTANCE_MEAN_POOL, 0 };
      g_assert_true (comparer_run (comparer, &metric, &a, &b, &d, &error));
      g_assert_no_error (error);
      g_assert_null (d.maps[0]);
      check_terms ("mean-pool distance", &d, c, "mean_pool_distance", "mean_pool_layers");
      metric.kind = PERC_DISTANCE_STYLE;
      g_assert_true (comparer_run (comparer, &metric, &a, &b, &d, &error));
      g_assert_no_error (error);
      check_terms ("style distance", &d, c, "style_distance", "style_layers");
    }

  g_free (map);
  g_free (img0);
  g_free (img1);
  perc_distance_clear (&d);
  comparer_free (comparer);
  perc_model_free (model);
  g_free (path);
}

static JsonParser *
add_cases (const char *file,
           GTestDataFunc func)
{
  JsonParser *parser = json_parser_new ();
  JsonArray  *cases;
  GError     *error = NULL;
  char       *path = g_test_build_filename (G_TEST_DIST, "goldens", file, NULL);

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                        "cases");
  g_assert_cmpuint (json_array_get_length (cases), >, 0);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      char       *name = g_strdup_printf ("/goldens/%s/%s", file,
                                          json_object_get_string_member (c, "name"));

      g_test_add_data_func (name, c, func);
      g_free (name);
    }
  g_free (path);
  return parser;
}

int
main (int argc, char **argv)
{
  JsonParser *lpips, *study;
  int         status;

  tmpdir = test_setup (&argc, &argv);
  lpips = add_cases ("goldens.json", test_case);
  study = add_cases ("resnet.json", test_study_case);
  status = g_test_run ();
  g_object_unref (lpips);
  g_object_unref (study);
  return status;
}
