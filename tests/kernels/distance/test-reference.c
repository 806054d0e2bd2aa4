/* The real SqueezeNet 1.1 + LPIPS v0.1 weights, converted by
 * weights/convert from the mirror, against the values the official LPIPS
 * code computed for the example images.  Skipped (exit 77) when no mirror
 * is given.
 */
#include <math.h>
#include <stdio.h>
#include <gegl.h>
#include <json-glib/json-glib.h>

#include "support/test-core.h"
#include "support/test-util.h"
#include "support/whole-image.h"

#define TOLERANCE 1e-5

static const char *mirror;
static const char *tmpdir;
static char       *shared;     /* the shared folder: mirror/.. */
static PercModel  *models[3];  /* v0.1, v0.0, unweighted */

static char *
convert (const char *calibration)
{
  char   *convert = g_test_build_filename (G_TEST_DIST, "..", "weights", "convert", NULL);
  char   *backbone = g_build_filename (mirror, "torchvision", "squeezenet1_1-features.pth", NULL);
  char   *version = g_strdup (calibration + strlen ("lpips-v"));
  char   *cal_file = g_build_filename (mirror, "lpips", calibration + strlen ("lpips-"), "squeeze.pth", NULL);
  char   *out = g_strdup_printf ("%s/squeeze-%s.safetensors", tmpdir, calibration);
  char   *argv[16] = { (char *) g_getenv ("PYTHON3"), convert, "--network", "squeeze",
                       "--backbone", backbone, "-o", out };
  int     status;
  GError *error = NULL;

  if (g_str_has_prefix (calibration, "lpips"))
    {
      argv[8] = "--calibration";
      argv[9] = cal_file;
      argv[10] = "--lpips-version";
      argv[11] = version;
    }
  else
    argv[8] = "--unweighted";
  g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_free (convert);
  g_free (backbone);
  g_free (version);
  g_free (cal_file);
  return out;
}

static float *
load_png (const char *name, int *w, int *h)
{
  char          *path = g_build_filename (shared, "images", "lpips-examples", name, NULL);
  GeglNode      *graph = gegl_node_new ();
  GeglNode      *load = gegl_node_new_child (graph, "operation", "gegl:load",
                                             "path", path, NULL);
  GeglRectangle  r = gegl_node_get_bounding_box (load);
  float         *rgb;

  g_assert_cmpint (r.width, >, 0);
  rgb = g_new (float, (gsize) r.width * r.height * 3);
  /* Gamma-encoded values, as the reference reads the 8-bit file. */
  gegl_node_blit (load, 1.0, &r, babl_format ("R'G'B' float"), rgb,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  *w = r.width;
  *h = r.height;
  g_object_unref (graph);
  g_free (path);
  return rgb;
}

static void
check (const char *what, double got, double want)
{
  if (g_test_verbose ())
    g_printerr ("  %-22s %.8f  reference %.8f  diff %.2g\n", what, got, want,
                fabs (got - want));
  g_assert_cmpfloat (fabs (got - want), <=, TOLERANCE);
}

static void
test_example (gconstpointer data)
{
  JsonObject   *e = (JsonObject *) data;
  int           w, h, w1, h1, rank;
  float        *ref = load_png (json_object_get_string_member (e, "ref"), &w, &h);
  float        *dist = load_png (json_object_get_string_member (e, "dist"), &w1, &h1);
  PercImage     a = { w, h, 3 * w, ref }, b = { w1, h1, 3 * w1, dist };
  PercDistance  d = { 0 };
  gint64        shape[4];
  char         *npy = g_build_filename (shared, "reference", "spatial",
                                        json_object_get_string_member (e, "spatial_npy"), NULL);
  float        *want = read_npy (npy, &rank, shape);
  float        *map = g_new (float, (gsize) w * h);
  double        err = 0, mean = 0;
  GError       *error = NULL;
  static const struct { int model; PercCalibration cal; const char *scalar, *layers; } runs[] = {
    { 0, PERC_CALIBRATION_LPIPS_V0_1, "lpips", "lpips_layers" },
    { 0, PERC_CALIBRATION_UNWEIGHTED, "unweighted", "unweighted_layers" },
    /* The backbone-only file gives the same unweighted distance. */
    { 2, PERC_CALIBRATION_UNWEIGHTED, "unweighted", "unweighted_layers" },
  };

  for (guint r = 0; r < G_N_ELEMENTS (runs); r++)
    {
      Comparer     *c = comparer_new (models[runs[r].model]);
      JsonArray    *layers = json_object_get_array_member (e, runs[r].layers);

      g_assert_true (comparer_run (c, &(PercMetric) { runs[r].cal, PERC_DISTANCE_SPATIAL, 0 }, &a, &b, &d, &error));
      g_assert_no_error (error);
      check (runs[r].scalar, d.distance, json_object_get_double_member (e, runs[r].scalar));
      g_assert_cmpint (d.n_layers, ==, json_array_get_length (layers));
      for (int l = 0; l < d.n_layers; l++)
        check ("  layer", d.terms[l], json_array_get_double_element (layers, l));
      comparer_free (c);

      if (r == 0)
        {
          g_assert_true (rank == 2 && shape[0] == h && shape[1] == w);
          spatial_map (&d, w, h, map);
          for (gsize i = 0; i < (gsize) w * h; i++)
            {
              err = MAX (err, fabs (map[i] - want[i]));
              mean += map[i];
            }
          if (g_test_verbose ())
            g_printerr ("  spatial map max abs diff %.2g\n", err);
          g_assert_cmpfloat (err, <=, TOLERANCE);
          check ("spatial mean", mean / ((gsize) w * h),
                 json_object_get_double_member (e, "spatial_mean"));
        }
    }

  /* v0.0: no reference values, but it runs, and on different images it
   * differs from v0.1 (no input scaling, other lin weights).
   */
  {
    Comparer     *c = comparer_new (models[1]);
    double        v01 = json_object_get_double_member (e, "lpips");

    g_assert_true (comparer_run (c, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_0, PERC_DISTANCE_SPATIAL, 0 }, &a, &b, &d, &error));
    g_assert_no_error (error);
    g_assert_true (isfinite (d.distance));
    g_assert_true (v01 == 0 ? d.distance == 0 : fabs (d.distance - v01) > 1e-4);
    comparer_free (c);
  }

  perc_distance_clear (&d);
  g_free (npy);
  g_free (want);
  g_free (map);
  g_free (ref);
  g_free (dist);
}

int
main (int argc, char **argv)
{
  const char *calibrations[] = { "lpips-v0.1", "lpips-v0.0", "unweighted" };
  JsonParser *parser;
  JsonArray  *examples;
  GError     *error = NULL;
  char       *json;
  int         status;

  mirror = g_getenv ("GEGL_PERCEPTUAL_WEIGHTS_MIRROR");
  if (!mirror || !*mirror || !g_file_test (mirror, G_FILE_TEST_IS_DIR))
    {
      printf ("SKIP: the real weights are not available; set "
              "GEGL_PERCEPTUAL_WEIGHTS_MIRROR (or meson -Dweights_mirror=) to a "
              "directory with the official files to run this test\n");
      return 77;
    }
  tmpdir = test_setup (&argc, &argv);
  gegl_init (&argc, &argv);
  shared = g_path_get_dirname (mirror);
  for (int i = 0; i < 3; i++)
    {
      char *path = convert (calibrations[i]);

      models[i] = perc_model_load (path, test_microkernel (), &error);
      g_assert_no_error (error);
      g_free (path);
    }

  json = g_build_filename (shared, "reference", "lpips-squeeze-v0.1-examples.json", NULL);
  parser = json_parser_new ();
  json_parser_load_from_file (parser, json, &error);
  g_assert_no_error (error);
  examples = json_node_get_array (json_parser_get_root (parser));
  for (guint i = 0; i < json_array_get_length (examples); i++)
    {
      JsonObject *e = json_array_get_object_element (examples, i);
      char       *name = g_strdup_printf ("/reference/%s", json_object_get_string_member (e, "name"));

      g_test_add_data_func (name, e, test_example);
      g_free (name);
    }
  status = g_test_run ();

  for (int i = 0; i < 3; i++)
    perc_model_free (models[i]);
  g_object_unref (parser);
  g_free (shared);
  g_free (json);
  gegl_exit ();
  return status;
}
