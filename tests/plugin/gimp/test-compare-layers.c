/* What both GIMP plug-ins share (plugin/gimp/compare-layers.h), through
 * GEGL and the ops but without GIMP: results against the PyTorch goldens,
 * progress, every refusal, the installed-model checks, and the plug-ins'
 * choices against the ops' own enums.
 */
#include <math.h>
#include <string.h>
#include <gegl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "compare-layers.h"
#include "model/perc-catalog.h"
#include "model/perc-net.h"
#include "support/test-util.h"

static const char *tmpdir;
static JsonObject *golden;          /* squeeze lpips-v0.1, seed 1 */
static JsonParser *parser;

/* A buffer with the golden case's image in GIMP's 8-bit layer format. */
static GeglBuffer *
golden_buffer (const char *member,
               const char *format)
{
  int         w = json_object_get_int_member (golden, "width");
  int         h = json_object_get_int_member (golden, "height");
  JsonArray  *px = json_object_get_array_member (golden, member);
  GeglBuffer *buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h), babl_format (format));
  guint8     *rgb = g_new (guint8, (gsize) w * h * 3);

  for (int i = 0; i < 3 * w * h; i++)
    rgb[i] = json_array_get_int_element (px, i);
  gegl_buffer_set (buffer, NULL, 0, babl_format ("R'G'B' u8"), rgb, GEGL_AUTO_ROWSTRIDE);
  g_free (rgb);
  return buffer;
}

typedef struct
{
  int    calls;
  double last;
  double first;
} Progress;

static void
progress (double   fraction,
          gpointer data)
{
  Progress *p = data;

  g_assert_cmpfloat (fraction, >=, p->last);
  g_assert_cmpfloat (fraction, <=, 1.0);
  if (!p->calls++)
    p->first = fraction;
  p->last = fraction;
}

static void
test_outputs (void)
{
  GeglBuffer *a = golden_buffer ("image0", "R'G'B' u8");
  GeglBuffer *b = golden_buffer ("image1", "R'G'B' u8");
  int         w = gegl_buffer_get_width (a), h = gegl_buffer_get_height (a);
  double      d = json_object_get_double_member (golden, "distance");
  JsonArray  *layers = json_object_get_array_member (golden, "layers");

  for (int output = 0; output < 3; output++)
    {
      CompareSettings s = { "squeeze", "default", output, 3, "gray", 0.0 };
      CompareJob     *job = compare_job_new (a, b, &s);
      Progress        p = { 0, 0, 0 };
      GError         *error = NULL;
      GeglBuffer     *target = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h),
                                                babl_format ("R'G'B'A float"));
      float          *px = g_new (float, (gsize) w * h * 4);
      JsonArray      *want = output == COMPARE_DISTANCE_MAP ?
                             json_object_get_array_member (golden, "spatial") :
                             json_array_get_array_element (
                               json_object_get_array_member (golden, "layer_maps_upsampled"), 2);
      double          worst = 0;

      g_assert_true (compare_check_settings (&s, &error));
      g_assert_true (compare_job_run (job, progress, &p, &error));
      g_assert_no_error (error);
      /* It moved before the end, and reached it. */
      g_assert_cmpint (p.calls, >=, 3);
      g_assert_cmpfloat (p.first, <, 1.0);
      g_assert_cmpfloat (p.last, ==, 1.0);
      g_assert_cmpfloat (fabs (compare_job_distance (job) - d), <=, 1e-5);
      if (output == COMPARE_LAYER_DIFFERENCE)
        g_assert_cmpfloat (fabs (compare_job_term (job) -
                                 json_array_get_double_element (layers, 2)), <=, 1e-5);

      compare_job_write (job, target);
      gegl_buffer_get (target, NULL, 1.0, babl_format ("R'G'B'A float"), px,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      for (int i = 0; i < w * h; i++)
        if (output == COMPARE_HEATMAP)
          /* At opacity 0 the heatmap is the reference. */
          worst = MAX (worst, fabs (px[4 * i] * 255 -
                                    json_array_get_int_element (
                                      json_object_get_array_member (golden, "image0"), 3 * i)));
        else
          /* The gray maps: the value as the gray level, clipped to 0..1. */
          worst = MAX (worst, fabs (px[4 * i] -
                                    CLAMP (json_array_get_double_element (want, i), 0, 1)));
      g_assert_cmpfloat (worst, <=, output == COMPARE_HEATMAP ? 1e-3 : 1e-5);

      g_free (px);
      g_object_unref (target);
      compare_job_free (job);
    }
  g_object_unref (a);
  g_object_unref (b);
}

static void
test_failure (void)
{
  GeglBuffer     *a = golden_buffer ("image0", "R'G'B' u8");
  GeglBuffer     *b = golden_buffer ("image1", "R'G'B' u8");
  CompareSettings s = { "vgg", "default", COMPARE_HEATMAP, 1, "magma", 0.7 };
  CompareJob     *job = compare_job_new (a, b, &s);
  GError         *error = NULL;

  /* No VGG model is installed: the op's status is the message. */
  g_assert_false (compare_job_run (job, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "no vgg model installed"));
  g_clear_error (&error);
  compare_job_free (job);
  g_object_unref (a);
  g_object_unref (b);
}

static void
test_settings (void)
{
  static const struct { CompareSettings s; const char *message; } bad[] = {
    { { "file", "default", COMPARE_HEATMAP, 1, "magma", 0.7 }, "“network” must be one of squeeze, alex" },
    { { "resnet18", "lpips-v0.1", COMPARE_HEATMAP, 1, "magma", 0.7 }, "ResNet-18 has no LPIPS calibration" },
    { { "squeeze", "v2", COMPARE_HEATMAP, 1, "magma", 0.7 }, "“calibration” must be" },
    { { "squeeze", "default", 3, 1, "magma", 0.7 }, "“output” must be" },
    { { "squeeze", "default", COMPARE_HEATMAP, 1, "jet", 0.7 }, "“colormap” must be" },
    { { "squeeze", "default", COMPARE_HEATMAP, 1, "magma", NAN }, "“opacity” must be" },
    { { "squeeze", "default", COMPARE_HEATMAP, 1, "magma", 1.5 }, "“opacity” must be" },
    { { "squeeze", "default", COMPARE_LAYER_DIFFERENCE, 8, "magma", 0.7 }, "SqueezeNet 1.1 has layers 1 to 7" },
    { { "alex", "default", COMPARE_LAYER_DIFFERENCE, 0, "magma", 0.7 }, "AlexNet has layers 1 to 5" },
  };
  CompareSettings good = { "resnet50", "unweighted", COMPARE_LAYER_DIFFERENCE, 5, "x", 9 };
  GError         *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (compare_check_settings (&bad[i].s, &error));
      if (!strstr (error->message, bad[i].message))
        g_error ("case %u: %s", i, error->message);
      g_clear_error (&error);
    }
  /* What an output does not use is not checked. */
  g_assert_true (compare_check_settings (&good, &error));
}

static void
test_padding (void)
{
  GeglBuffer *plain = golden_buffer ("image0", "R'G'B' u8");
  GeglBuffer *alpha = golden_buffer ("image0", "R'G'B'A u8");
  int         w = gegl_buffer_get_width (alpha), h = gegl_buffer_get_height (alpha);
  GError     *error = NULL;
  GeglColor  *clear = gegl_color_new ("transparent");

  g_assert_true (compare_check_padding (plain, "plain", &error));
  g_assert_true (compare_check_padding (alpha, "opaque", &error));
  /* A transparent hole inside is no padding. */
  gegl_buffer_set_color (alpha, GEGL_RECTANGLE (3, 3, 2, 2), clear);
  g_assert_true (compare_check_padding (alpha, "hole", &error));
  /* What Layer > Layer to Image Size leaves. */
  gegl_buffer_set_color (alpha, GEGL_RECTANGLE (0, h - 2, w, 2), clear);
  g_assert_false (compare_check_padding (alpha, "padded", &error));
  g_assert_nonnull (strstr (error->message, "“padded” has a transparent border"));
  g_clear_error (&error);
  gegl_buffer_set_color (alpha, NULL, clear);
  g_assert_false (compare_check_padding (alpha, "empty", &error));
  g_assert_nonnull (strstr (error->message, "wholly transparent"));
  g_clear_error (&error);
  g_object_unref (clear);
  g_object_unref (plain);
  g_object_unref (alpha);
}

static void
test_installed (void)
{
  char *missing;

  g_assert_true (compare_model_installed ("squeeze", "default"));
  g_assert_true (compare_model_installed ("squeeze", "lpips-v0.1"));
  /* Any file of the network serves the unweighted distance. */
  g_assert_true (compare_model_installed ("squeeze", "unweighted"));
  g_assert_false (compare_model_installed ("squeeze", "lpips-v0.0"));
  g_assert_false (compare_model_installed ("alex", "default"));
  missing = compare_missing_models ("default");
  g_assert_nonnull (strstr (missing, "AlexNet, VGG-16, ResNet-18, ResNet-34, ResNet-50."));
  g_assert_null (strstr (missing, "SqueezeNet"));
  g_assert_nonnull (strstr (missing, "gegl-perceptual fetch alex"));
  g_free (missing);
}

/* The plug-ins' choices are the ops' enum nicks. */
static void
test_choices (void)
{
  GParamSpec *network = gegl_operation_find_property ("perceptual:heatmap", "network");
  GParamSpec *calibration = gegl_operation_find_property ("perceptual:heatmap", "calibration");
  GParamSpec *colormap = gegl_operation_find_property ("perceptual:heatmap", "colormap");
  GEnumClass *e = G_PARAM_SPEC_ENUM (network)->enum_class;
  int         i = 0;

  /* Every network of the catalogue, in its order, then "file". */
  for (const PercNetInfo *n = perc_net_builtins (); n->name; n++, i++)
    g_assert_cmpstr (e->values[i].value_nick, ==, n->name);
  g_assert_cmpstr (e->values[i].value_nick, ==, "file");
  g_assert_cmpuint (e->n_values, ==, i + 1);
  e = G_PARAM_SPEC_ENUM (calibration)->enum_class;
  for (int c = 0; c <= PERC_CALIBRATION_UNWEIGHTED; c++)
    g_assert_cmpstr (e->values[c].value_nick, ==, perc_calibration_name (c));
  g_assert_cmpstr (e->values[PERC_CALIBRATION_UNWEIGHTED + 1].value_nick, ==, "default");
  e = G_PARAM_SPEC_ENUM (colormap)->enum_class;
  g_assert_cmpuint (e->n_values, ==, 5);
  for (guint c = 0; c < e->n_values; c++)
    g_assert_cmpstr (e->values[c].value_nick, ==,
                     ((const char *[]) { "magma", "inferno", "viridis", "turbo", "gray" })[c]);
}

int
main (int argc, char **argv)
{
  char   *path, *dest;
  GError *error = NULL;
  int     status;

  tmpdir = test_setup (&argc, &argv);
  path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);
  dest = g_build_filename (tmpdir, "squeeze-lpips-v0.1.safetensors", NULL);
  if (g_strcmp0 (path, dest))
    g_rename (path, dest);
  g_free (path);
  g_free (dest);
  g_setenv ("GEGL_PERCEPTUAL_WEIGHTS_PATH", tmpdir, TRUE);
  g_setenv ("XDG_DATA_HOME", tmpdir, TRUE);
  /* The ops warn about the missing model: expected here. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  gegl_init (&argc, &argv);
  g_assert_true (compare_ops_available (&error));

  path = g_test_build_filename (G_TEST_DIST, "goldens", "goldens.json", NULL);
  parser = json_parser_new ();
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  g_free (path);
  golden = json_array_get_object_element (
             json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                           "cases"), 0);

  g_test_add_func ("/compare-layers/outputs", test_outputs);
  g_test_add_func ("/compare-layers/failure", test_failure);
  g_test_add_func ("/compare-layers/settings", test_settings);
  g_test_add_func ("/compare-layers/padding", test_padding);
  g_test_add_func ("/compare-layers/installed", test_installed);
  g_test_add_func ("/compare-layers/choices", test_choices);
  status = g_test_run ();

  g_object_unref (parser);
  gegl_exit ();
  return status;
}
