/* Loading models and bad input: every problem is a clear GError, never a
 * crash or a silently wrong number.  Also the documented search order.
 */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "perc-compare.h"
#include "perc-error.h"
#include "test-util.h"

static char *tmpdir;
static char *good;      /* squeeze lpips-v0.1, synthetic */

static void
expect_error (const char *path, int code, const char *fragment)
{
  GError    *error = NULL;
  PercModel *model = perc_model_load (path, &error);

  g_assert_null (model);
  g_assert_error (error, PERC_ERROR, code);
  if (g_test_verbose ())
    g_printerr ("  %s\n", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, fragment));
  g_error_free (error);
}

typedef struct
{
  const char *member;   /* tensor name or "__metadata__" */
  const char *key;      /* member of it to replace, NULL to remove `member` */
  const char *json;     /* new value as JSON */
} Edit;

static void
apply_edit (JsonObject *header, gpointer data)
{
  const Edit *e = data;

  if (!e->key)
    {
      json_object_remove_member (header, e->member);
      return;
    }
  json_object_set_member (json_object_get_object_member (header, e->member),
                          e->key, json_from_string (e->json, NULL));
}

static void
test_bad_models (void)
{
  static const struct { Edit edit; int code; const char *fragment; } cases[] = {
    { { "__metadata__", "format", "\"something-else\"" }, PERC_ERROR_MODEL, "not a gegl-perceptual model" },
    { { "__metadata__", "format_version", "\"2\"" }, PERC_ERROR_MODEL, "version \"2\"" },
    { { "__metadata__", "network", "\"resnet-9\"" }, PERC_ERROR_MODEL, "unknown network \"resnet-9\"" },
    { { "__metadata__", "calibration", "\"lpips-v9\"" }, PERC_ERROR_MODEL, "unknown calibration" },
    { { "__metadata__", "network", "\"alex\"" }, PERC_ERROR_MODEL, "features.0.weight\" has shape [64, 3, 3, 3], the network needs [64, 3, 11, 11]" },
    { { "__metadata__", "calibration", "\"unweighted\"" }, PERC_ERROR_MODEL, "unexpected tensor \"lin." },
    /* A tensor declared with another shape of the same size. */
    { { "features.0.weight", "shape", "[64, 27, 1, 1]" }, PERC_ERROR_MODEL, "has shape [64, 27, 1, 1]" },
    { { "features.0.bias", "dtype", "\"I32\"" }, PERC_ERROR_MODEL, "is I32, not F32" },
    { { "features.0.bias", "dtype", "\"Q7\"" }, PERC_ERROR_FORMAT, "unsupported dtype \"Q7\"" },
    { { "lin.3.weight", NULL, NULL }, PERC_ERROR_FORMAT, "hole" },
    { { "features.0.bias", "data_offsets", "[0, 256]" }, PERC_ERROR_FORMAT, "overlaps" },
    { { "features.0.bias", "data_offsets", "[0, 1.5]" }, PERC_ERROR_FORMAT, "invalid data_offsets" },
    { { "features.0.bias", "shape", "[-64]" }, PERC_ERROR_FORMAT, "invalid shape" },
    { { "features.0.bias", "shape", "[4294967296, 4294967296, 4294967296]" }, PERC_ERROR_FORMAT, "invalid shape" },
    { { "__metadata__", "network", "7" }, PERC_ERROR_FORMAT, "not a string" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = g_strdup_printf ("%s/bad-%u.safetensors", tmpdir, i);

      rewrite_model (good, path, apply_edit, (gpointer) &cases[i].edit);
      expect_error (path, cases[i].code, cases[i].fragment);
      g_free (path);
    }
}

/* Swaps where two tensors' data lie: a batch norm's biases (some
 * negative) become its variances.
 */
static void
swap_offsets (JsonObject *header, G_GNUC_UNUSED gpointer data)
{
  JsonObject *a = json_object_get_object_member (header, "layer1.0.bn1.bias");
  JsonObject *b = json_object_get_object_member (header, "layer1.0.bn1.running_var");
  JsonNode   *oa = json_node_copy (json_object_get_member (a, "data_offsets"));

  json_object_set_member (a, "data_offsets",
                          json_node_copy (json_object_get_member (b, "data_offsets")));
  json_object_set_member (b, "data_offsets", oa);
}

static void
test_bad_resnets (void)
{
  static const struct { Edit edit; const char *fragment; } cases[] = {
    { { "__metadata__", "resnet_block", "\"wide\"" }, "not basic or bottleneck" },
    { { "__metadata__", "resnet_block", "\"bottleneck\"" }, "tensor \"layer1.0.downsample.0.weight\" is missing" },
    { { "__metadata__", "resnet_blocks", "\"0,1\"" }, "not 1 to 4 numbers" },
    { { "__metadata__", "resnet_blocks", "\"1,1,1,1,1\"" }, "not 1 to 4 numbers" },
    { { "__metadata__", "resnet_blocks", "\"1,x\"" }, "not 1 to 4 numbers" },
    { { "__metadata__", "resnet_blocks", "\"\"" }, "not 1 to 4 numbers" },
    { { "__metadata__", "resnet_blocks", "\"1,2\"" }, "tensor \"layer2.1.conv1.weight\" is missing" },
    { { "__metadata__", "resnet_blocks", "\"1\"" }, "unexpected tensor \"layer2." },
    { { "__metadata__", "network", "\"resnet18\"" }, "not its standard ones" },
    { { "__metadata__", "network", "\"Res Net\"" }, "not a valid network name" },
    { { "__metadata__", "architecture", "\"densenet\"" }, "unknown architecture \"densenet\"" },
    { { "layer1.0.bn1.running_mean", "dtype", "\"I32\"" }, "is I32, not F32" },
  };
  char *base = synth_resnet (tmpdir, "resnet6", "basic", "1,1", "unweighted", 13);
  char *path;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      path = g_strdup_printf ("%s/bad-resnet-%u.safetensors", tmpdir, i);
      rewrite_model (base, path, apply_edit, (gpointer) &cases[i].edit);
      expect_error (path, PERC_ERROR_MODEL, cases[i].fragment);
      g_free (path);
    }
  path = g_strdup_printf ("%s/bad-resnet-variance.safetensors", tmpdir);
  rewrite_model (base, path, swap_offsets, NULL);
  expect_error (path, PERC_ERROR_MODEL, "\"layer1.0.bn1.running_var\" has a negative variance");
  g_free (path);
  g_free (base);
}

static void
test_bad_files (void)
{
  char  *path = g_build_filename (tmpdir, "raw.safetensors", NULL);
  char  *contents;
  gsize  size;
  static const struct { const char *bytes; gsize size; const char *fragment; } raw[] = {
    { "", 0, "only 0 bytes" },
    { "\x10\0\0\0\0\0\0", 7, "only 7 bytes" },
    { "\xff\xff\xff\xff\xff\xff\xff\xff{}", 10, "header length" },
    { "\x02\0\0\0\0\0\0\0[]", 10, "not a JSON object" },
    { "\x04\0\0\0\0\0\0\0{\"a\"", 12, "not JSON" },
    { "\x02\0\0\0\0\0\0\0{}xyz", 13, "3 bytes after the last tensor" },
  };

  expect_error ("/nonexistent/model.safetensors", PERC_ERROR_FILE, "No such file");
  for (guint i = 0; i < G_N_ELEMENTS (raw); i++)
    {
      write_file (path, raw[i].bytes, raw[i].size);
      expect_error (path, PERC_ERROR_FORMAT, raw[i].fragment);
    }

  /* Truncated, and a NaN weight. */
  g_file_get_contents (good, &contents, &size, NULL);
  write_file (path, contents, size - 1);
  expect_error (path, PERC_ERROR_FORMAT, "outside the data area");
  memcpy (contents + size - 4, &(float) { NAN }, 4);
  write_file (path, contents, size);
  expect_error (path, PERC_ERROR_MODEL, "non-finite");
  g_free (contents);
  g_free (path);
}

static PercImage
image (int w, int h, float value)
{
  float *rgb = g_new (float, (gsize) w * h * 3);

  for (gsize i = 0; i < (gsize) w * h * 3; i++)
    rgb[i] = value + 0.3f * sinf (i * 0.37f);
  return (PercImage) { w, h, 3 * w, rgb };
}

static void
expect_run_error (PercComparer *c, PercCalibration cal, PercImage a,
                  PercImage b, const char *fragment)
{
  PercDistance d = { 0 };
  GError      *error = NULL;

  g_assert_false (perc_comparer_run (c, &(PercMetric) { cal, PERC_DISTANCE_SPATIAL, 0 }, &a, &b, &d, &error));
  if (g_test_verbose ())
    g_printerr ("  %s\n", error->message);
  g_assert_nonnull (strstr (error->message, fragment));
  g_error_free (error);
  perc_distance_clear (&d);
}

static void
test_bad_input (void)
{
  PercModel    *model = perc_model_load (good, NULL);
  PercComparer *c = perc_comparer_new (model);
  PercImage     a = image (40, 30, 0.4f), b = image (40, 30, 0.5f);
  PercImage     small = image (16, 40, 0.5f), other = image (41, 30, 0.5f);
  PercImage     nan = image (40, 30, 0.5f);
  PercDistance  d = { 0 };

  g_assert_cmpint (model->min_size, ==, 17);
  ((float *) nan.rgb)[3 * (40 * 7 + 5) + 1] = NAN;
  expect_run_error (c, PERC_CALIBRATION_LPIPS_V0_1, small, small,
                    "16x40 pixels; the squeeze network needs at least 17x17");
  expect_run_error (c, PERC_CALIBRATION_LPIPS_V0_1, a, other, "differ in size");
  expect_run_error (c, PERC_CALIBRATION_LPIPS_V0_1, a, nan, "NaN value at pixel (5, 7)");
  expect_run_error (c, PERC_CALIBRATION_LPIPS_V0_0, a, b, "holds lpips-v0.1 weights, not lpips-v0.0");

  /* After errors the comparer still works, and a distance is finite,
   * positive, and zero for identical images.
   */
  g_assert_true (perc_comparer_run (c, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 }, &a, &b, &d, NULL));
  g_assert_true (isfinite (d.distance) && d.distance > 0);
  g_assert_true (perc_comparer_run (c, &(PercMetric) { PERC_CALIBRATION_UNWEIGHTED, PERC_DISTANCE_SPATIAL, 0 }, &a, &a, &d, NULL));
  g_assert_cmpfloat (d.distance, ==, 0);

  perc_distance_clear (&d);
  for (const PercImage *i = (PercImage[]) { a, b, small, other, nan }, *e = i + 5; i < e; i++)
    g_free ((float *) i->rgb);
  perc_comparer_free (c);
  perc_model_free (model);
}

/* Explicit path (the caller's), then GEGL_PERCEPTUAL_WEIGHTS_PATH, then
 * the user data dir, then the installed dir.
 */
static void
test_search_order (void)
{
  char   *env_dir = g_build_filename (tmpdir, "env", NULL);
  char   *env_dir2 = g_build_filename (tmpdir, "env2", NULL);
  char   *user_dir = g_build_filename (tmpdir, "xdg", "gegl-perceptual", "weights", NULL);
  char   *inst_dir = g_build_filename (tmpdir, "installed", NULL);
  char   *dirs[] = { env_dir, user_dir, inst_dir };
  char   *files[3], *path, *env;
  GError *error = NULL;

  for (int i = 0; i < 3; i++)
    {
      g_mkdir_with_parents (dirs[i], 0700);
      files[i] = g_build_filename (dirs[i], "squeeze-lpips-v0.1.safetensors", NULL);
      write_file (files[i], "x", 1);
    }
  g_mkdir_with_parents (env_dir2, 0700);
  env = g_strjoin (G_SEARCHPATH_SEPARATOR_S, env_dir2, env_dir, NULL);
  g_setenv ("GEGL_PERCEPTUAL_WEIGHTS_PATH", env, TRUE);

  for (int i = 0; i < 3; i++)
    {
      path = perc_model_locate ("squeeze", PERC_CALIBRATION_LPIPS_V0_1, inst_dir, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (path, ==, files[i]);
      /* An unweighted distance can use the calibrated file. */
      g_free (path);
      path = perc_model_locate ("squeeze", PERC_CALIBRATION_UNWEIGHTED, inst_dir, &error);
      g_assert_cmpstr (path, ==, files[i]);
      g_free (path);
      g_unlink (files[i]);
    }

  path = perc_model_locate ("squeeze", PERC_CALIBRATION_LPIPS_V0_1, inst_dir, &error);
  g_assert_null (path);
  g_assert_error (error, PERC_ERROR, PERC_ERROR_FILE);
  if (g_test_verbose ())
    g_printerr ("  %s\n", error->message);
  g_assert_nonnull (strstr (error->message, "squeeze-lpips-v0.1.safetensors"));
  g_assert_nonnull (strstr (error->message, env_dir2));
  g_assert_nonnull (strstr (error->message, user_dir));
  g_assert_nonnull (strstr (error->message, inst_dir));
  g_assert_nonnull (strstr (error->message, "fetch squeeze --calibration lpips-v0.1"));
  g_clear_error (&error);

  g_unsetenv ("GEGL_PERCEPTUAL_WEIGHTS_PATH");
  for (int i = 0; i < 3; i++)
    g_free (files[i]);
  g_free (env);
  g_free (env_dir);
  g_free (env_dir2);
  g_free (user_dir);
  g_free (inst_dir);
}

/* One model, two threads with their own comparers: same results. */
static gpointer
thread_run (gpointer data)
{
  PercModel    *model = data;
  PercComparer *c = perc_comparer_new (model);
  PercImage     a = image (48, 40, 0.4f), b = image (48, 40, 0.6f);
  PercDistance  d = { 0 };
  double       *result = g_new (double, 1);

  for (int i = 0; i < 3; i++)
    g_assert_true (perc_comparer_run (c, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 }, &a, &b, &d, NULL));
  *result = d.distance;
  perc_distance_clear (&d);
  perc_comparer_free (c);
  g_free ((float *) a.rgb);
  g_free ((float *) b.rgb);
  return result;
}

static void
test_threads (void)
{
  PercModel *model = perc_model_load (good, NULL);
  GThread   *t1 = g_thread_new ("a", thread_run, model);
  GThread   *t2 = g_thread_new ("b", thread_run, model);
  double    *r1 = g_thread_join (t1), *r2 = g_thread_join (t2);

  g_assert_cmpfloat (*r1, ==, *r2);
  g_free (r1);
  g_free (r2);
  perc_model_free (model);
}

int
main (int argc, char **argv)
{
  int status;

  tmpdir = make_temp_dir ();
  /* GLib reads XDG_DATA_HOME once: set it before anything asks. */
  {
    char *xdg = g_build_filename (tmpdir, "xdg", NULL);
    g_setenv ("XDG_DATA_HOME", xdg, TRUE);
    g_free (xdg);
  }
  g_test_init (&argc, &argv, NULL);
  good = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);
  g_test_add_func ("/model/bad-models", test_bad_models);
  g_test_add_func ("/model/bad-resnets", test_bad_resnets);
  g_test_add_func ("/model/bad-files", test_bad_files);
  g_test_add_func ("/model/bad-input", test_bad_input);
  g_test_add_func ("/model/search-order", test_search_order);
  g_test_add_func ("/model/threads", test_threads);
  status = g_test_run ();
  remove_dir (tmpdir);
  g_free (tmpdir);
  g_free (good);
  return status;
}
