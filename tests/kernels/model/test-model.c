/* Loading models and bad input: every problem is a clear GError, never a
 * crash or a silently wrong number.  Also the documented search order.
 */
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "perc-error.h"
#include "support/test-core.h"
#include "support/test-util.h"
#include "support/whole-image.h"

static const char *tmpdir;
static char *good;      /* squeeze lpips-v0.1, synthetic */

static void
expect_error (const char *path, int code, const char *fragment)
{
  GError    *error = NULL;
  PercModel *model = perc_model_load (path, test_microkernel (), &error);

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

/* Copies the model file src to dst with every value of the tensors
 * names[i] set to values[i] (the header unchanged).
 */
static void
set_tensors (const char        *src,
             const char        *dst,
             const char *const *names,
             const float       *values)
{
  char       *contents;
  gsize       size;
  guint64     header_len = 0;
  JsonParser *parser = json_parser_new ();

  g_assert_true (g_file_get_contents (src, &contents, &size, NULL));
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | (guint8) contents[i];
  g_assert_true (json_parser_load_from_data (parser, contents + 8, header_len, NULL));
  for (int i = 0; names[i]; i++)
    {
      JsonObject *t = json_object_get_object_member (
        json_node_get_object (json_parser_get_root (parser)), names[i]);
      JsonArray  *offsets = json_object_get_array_member (t, "data_offsets");
      gint64      begin = json_array_get_int_element (offsets, 0);
      gint64      end = json_array_get_int_element (offsets, 1);

      for (gint64 o = begin; o < end; o += 4)
        memcpy (contents + 8 + header_len + o, &values[i], 4);
    }
  write_file (dst, contents, size);
  g_object_unref (parser);
  g_free (contents);
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

  /* Finite batch norms that fold into infinite weights or biases: scaled
   * by weight / sqrt (running_var + 1e-5), shifted by running_mean times
   * that.
   */
  path = g_strdup_printf ("%s/bad-resnet-folded.safetensors", tmpdir);
  set_tensors (base, path, (const char *const []) { "bn1.weight", "bn1.running_var", NULL },
               (const float []) { 3e38f, 1e-3f });
  expect_error (path, PERC_ERROR_MODEL,
                "folding batch norm \"bn1\" into tensor \"conv1.weight\" gives non-finite "
                "weights");
  set_tensors (base, path,
               (const char *const []) { "layer1.0.bn2.running_mean", "layer1.0.bn2.running_var", NULL },
               (const float []) { 3e38f, 1e-3f });
  expect_error (path, PERC_ERROR_MODEL,
                "folding batch norm \"layer1.0.bn2\" into tensor \"layer1.0.conv2.weight\" "
                "gives a non-finite bias");
  g_free (path);
  g_free (base);
}

/* Finite weights whose Winograd transform (AlexNet's 5x5 convolutions)
 * is not.
 */
static void
test_bad_transform (void)
{
  char *base = synth_model (tmpdir, "alex", "lpips-v0.1", 1);
  char *path = g_strdup_printf ("%s/bad-transform.safetensors", tmpdir);

  set_tensors (base, path, (const char *const []) { "features.3.weight", NULL },
               (const float []) { 3.4e38f });
  expect_error (path, PERC_ERROR_MODEL,
                "tensor \"features.3.weight\" has values too large for the convolution");
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
    { "\x01\0\0\0\0\x01\0\0{}", 10, "header length 1099511627777 is more than the 4 MiB" },
    { "\x04\0\0\0\0\0\0\0 \t\r\n", 12, "the header is only white space" },
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

  /* Only regular files are opened (a FIFO would wait for a writer,
   * /dev/zero never end), of at most 1 GiB.
   */
  {
    char *fifo = g_build_filename (tmpdir, "fifo.safetensors", NULL);
    char *big = g_build_filename (tmpdir, "big.safetensors", NULL);
    int   fd;

    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    expect_error (fifo, PERC_ERROR_FILE, "it is a named pipe (FIFO), not a model file");
    expect_error (tmpdir, PERC_ERROR_FILE, "it is a folder, not a model file");
    if (g_file_test ("/dev/zero", G_FILE_TEST_EXISTS))
      expect_error ("/dev/zero", PERC_ERROR_FILE, "it is a character device, not a model file");
    /* Sparse: no disk space. */
    fd = g_open (big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (ftruncate (fd, PERC_SAFETENSORS_MAX_FILE + 1), ==, 0);
    g_close (fd, NULL);
    expect_error (big, PERC_ERROR_FORMAT, "1073741825 bytes, more than the 1 GiB a model file may have");
    /* A regular file of 0 bytes that has more to read. */
    if (g_file_test ("/proc/self/status", G_FILE_TEST_IS_REGULAR))
      expect_error ("/proc/self/status", PERC_ERROR_FILE, "the file became longer while it was read");
    g_unlink (big);
    g_unlink (fifo);
    g_free (big);
    g_free (fifo);
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

/* A safetensors file of `header` and `data_size` bytes of data, parsed. */
static PercSafetensors *
parse_header_text (const char *header,
                   gsize       data_size,
                   GError    **error)
{
  GByteArray      *a = g_byte_array_new ();
  guint64          n = strlen (header);
  guint8           len[8];
  GBytes          *bytes;
  PercSafetensors *st;

  for (int i = 0; i < 8; i++)
    len[i] = n >> (8 * i);
  g_byte_array_append (a, len, 8);
  g_byte_array_append (a, (const guint8 *) header, n);
  g_byte_array_set_size (a, 8 + n + data_size);
  bytes = g_byte_array_free_to_bytes (a);
  st = perc_safetensors_parse ("header", bytes, error);
  g_bytes_unref (bytes);
  return st;
}

/* `n` members "<prefix><i>": <value>, separated by commas. */
static char *
members (int n, const char *prefix, const char *value)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; i < n; i++)
    g_string_append_printf (s, "%s\"%s%d\":%s", i ? "," : "", prefix, i, value);
  return g_string_free (s, FALSE);
}

/* The header's limits and JSON's grammar, checked before json-glib runs:
 * each refusal names the problem; what is within the limits parses.
 */
static void
test_bad_headers (void)
{
  static const char entry[] = "{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}";
  char *long_key = g_strnfill (PERC_SAFETENSORS_MAX_KEY + 1, 'k');
  char *key = g_strnfill (PERC_SAFETENSORS_MAX_KEY, 'k');
  char *long_string = g_strnfill (PERC_SAFETENSORS_MAX_STRING + 1, 's');
  char *string = g_strnfill (PERC_SAFETENSORS_MAX_STRING, 's');
  char *many_meta = members (PERC_SAFETENSORS_MAX_MEMBERS + 1, "m", "\"v\"");
  char *meta = members (PERC_SAFETENSORS_MAX_MEMBERS, "m", "\"v\"");
  char *many = members (PERC_SAFETENSORS_MAX_TENSORS + 1, "t", "{}");
  char *deep = g_strdup_printf ("{\"a\":%s1%s}", "[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]]]]]");
  const struct { char *header; const char *fragment; } bad[] = {
    { deep, "\"a\" is nested deeper than the 3 levels" },
    { g_strdup ("{\"a\":{\"b\":{\"c\":{}}}}"), "\"a\" is nested deeper than the 3 levels" },
    { g_strdup ("{\"a\":{\"b\":[[1]]}}"), "\"a\" is nested deeper" },
    { g_strdup ("{\"t\":{},\"t\":{}}"), "the header names \"t\" twice" },
    { g_strdup ("{\"t\":{},\"\\u0074\":{}}"), "the header names \"t\" twice" },
    { g_strdup ("{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\"}}"), "\"t\" has the key \"dtype\" twice" },
    { g_strdup_printf ("{%s}", many), "more than 4096 tensors" },
    { g_strdup_printf ("{\"__metadata__\":{%s}}", many_meta), "\"__metadata__\" has more than 64 members" },
    { g_strdup ("{\"t\":{\"shape\":[1,2,3,4,5,6,7,8,9]}}"), "an array in \"t\" has more than 8 elements" },
    { g_strdup_printf ("{\"%s\":{}}", long_key), "the key at byte 1 of the header is longer than 256 bytes" },
    { g_strdup_printf ("{\"__metadata__\":{\"a\":\"%s\"}}", long_string), "a string in \"__metadata__\" is longer than 4096 bytes" },
    { g_strdup ("{\"t\":{\"shape\":[123456789012345678901234567890123]}}"), "a number in \"t\" is longer than 32 characters" },
    { g_strdup ("{\"t\\u0000\":{}}"), "holds a NUL character or a lone surrogate" },
    { g_strdup ("{\"\\udc00\":{}}"), "holds a NUL character or a lone surrogate" },
    { g_strdup ("{\"\\ud800x\":{}}"), "holds a NUL character or a lone surrogate" },
    { g_strdup ("{\"a\":\"\\q\"}"), "not JSON (an invalid escape in the string at byte 5)" },
    { g_strdup ("{\"a\":\"\\u12\"}"), "not JSON (an invalid escape" },
    { g_strdup ("{\"a\":\"\t\"}"), "not JSON (a control character in the string at byte 5)" },
    { g_strdup ("{\"a\":01}"), "not JSON (unexpected character at byte 6)" },
    { g_strdup ("{\"a\":1.}"), "not JSON (an invalid number at byte 5)" },
    { g_strdup ("{\"a\":-}"), "not JSON (an invalid number at byte 5)" },
    { g_strdup ("{\"a\":1e}"), "not JSON (an invalid number" },
    { g_strdup ("{\"a\":tru}"), "not JSON (unexpected character at byte 5)" },
    { g_strdup ("{\"a\":1,}"), "not JSON (unexpected character at byte 7)" },
    { g_strdup ("{\"a\" 1}"), "not JSON (unexpected character at byte 5)" },
    { g_strdup ("{\"a\":[1 2]}"), "not JSON (unexpected character" },
    { g_strdup ("{\"a\":[1}"), "not JSON (unexpected character" },
    { g_strdup ("{,}"), "not JSON (unexpected character at byte 1)" },
    { g_strdup ("{\"a\":1"), "not JSON (it ends at byte 6, inside a value)" },
    { g_strdup ("{\"a\":\"x"), "not JSON (it ends" },
    { g_strdup ("{} {}"), "not JSON (unexpected text at byte 3, after its object)" },
    { g_strdup ("{}x"), "after its object" },
    { g_strdup ("  "), "the header is only white space" },
    { g_strdup ("\"a\""), "the header is not a JSON object" },
    { g_strdup ("77"), "the header is not a JSON object" },
  };
  GError          *error = NULL;
  PercSafetensors *st;
  char            *header;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      st = parse_header_text (bad[i].header, 0, &error);
      g_assert_null (st);
      g_assert_error (error, PERC_ERROR, PERC_ERROR_FORMAT);
      if (g_test_verbose ())
        g_printerr ("  %s\n", error->message);
      if (!strstr (error->message, bad[i].fragment))
        g_error ("header %u: \"%s\" is not in \"%s\"", i, bad[i].fragment, error->message);
      g_assert_true (g_str_has_prefix (error->message, "header: "));
      g_clear_error (&error);
      g_free (bad[i].header);
    }

  /* At the limits, and the escapes json-glib decodes as the scanner does. */
  header = g_strdup_printf ("{\"__metadata__\":{%s,\"%s\":\"%s\"},\"t\":%s,"
                            "\"\\u0074\\u00e9\\ud83d\\ude00\\n\\/\":{\"dtype\":\"U8\","
                            "\"shape\":[1,1,1,1,1,1,1,1],\"data_offsets\":[4,5]}}  ",
                            meta + strlen ("\"m0\":\"v\","), key, string, entry);
  st = parse_header_text (header, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (perc_safetensors_n_tensors (st), ==, 2);
  g_assert_nonnull (perc_safetensors_lookup (st, "t\xc3\xa9\xf0\x9f\x98\x80\n/"));
  g_assert_cmpstr (perc_safetensors_metadata (st, key), ==, string);
  perc_safetensors_free (st);
  g_free (header);

  g_free (many);
  many = members (PERC_SAFETENSORS_MAX_TENSORS, "t", "{\"dtype\":\"F32\",\"shape\":[0],"
                  "\"data_offsets\":[0,0]}");
  header = g_strdup_printf ("{\"__metadata__\":{},%s}", many);
  st = parse_header_text (header, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (perc_safetensors_n_tensors (st), ==, PERC_SAFETENSORS_MAX_TENSORS);
  perc_safetensors_free (st);
  g_free (header);

  g_free (many);
  g_free (meta);
  g_free (many_meta);
  g_free (string);
  g_free (long_string);
  g_free (key);
  g_free (long_key);
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
expect_run_error (Comparer *c, PercCalibration cal, PercImage a,
                  PercImage b, const char *fragment)
{
  PercDistance d = { 0 };
  GError      *error = NULL;

  g_assert_false (comparer_run (c, &(PercMetric) { cal, PERC_DISTANCE_SPATIAL, 0 }, &a, &b, &d, &error));
  if (g_test_verbose ())
    g_printerr ("  %s\n", error->message);
  g_assert_nonnull (strstr (error->message, fragment));
  g_error_free (error);
  perc_distance_clear (&d);
}

static void
test_bad_input (void)
{
  PercModel    *model = perc_model_load (good, test_microkernel (), NULL);
  Comparer     *c = comparer_new (model);
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
  g_assert_true (comparer_run (c, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 }, &a, &b, &d, NULL));
  g_assert_true (isfinite (d.distance) && d.distance > 0);
  g_assert_true (comparer_run (c, &(PercMetric) { PERC_CALIBRATION_UNWEIGHTED, PERC_DISTANCE_SPATIAL, 0 }, &a, &a, &d, NULL));
  g_assert_cmpfloat (d.distance, ==, 0);

  perc_distance_clear (&d);
  for (const PercImage *i = (PercImage[]) { a, b, small, other, nan }, *e = i + 5; i < e; i++)
    g_free ((float *) i->rgb);
  comparer_free (c);
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
  char   *files[3], *path, *env, *xdg = g_build_filename (tmpdir, "xdg", NULL);
  char  **search;
  GError *error = NULL;

  for (int i = 0; i < 3; i++)
    {
      g_mkdir_with_parents (dirs[i], 0700);
      files[i] = g_build_filename (dirs[i], "squeeze-lpips-v0.1.safetensors", NULL);
      write_file (files[i], "x", 1);
    }
  g_mkdir_with_parents (env_dir2, 0700);
  /* As a front end passes them: GEGL_PERCEPTUAL_WEIGHTS_PATH's folders,
   * the user's data folder, the installed one.
   */
  env = g_strjoin (G_SEARCHPATH_SEPARATOR_S, env_dir2, env_dir, "", NULL);
  search = perc_model_search_dirs (env, xdg, inst_dir);
  g_assert_cmpuint (g_strv_length (search), ==, 4);
  g_assert_cmpstr (search[0], ==, env_dir2);
  g_assert_cmpstr (search[2], ==, user_dir);

  for (int i = 0; i < 3; i++)
    {
      path = perc_model_locate ("squeeze", PERC_CALIBRATION_LPIPS_V0_1, (const char *const *) search, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (path, ==, files[i]);
      /* An unweighted distance can use the calibrated file. */
      g_free (path);
      path = perc_model_locate ("squeeze", PERC_CALIBRATION_UNWEIGHTED, (const char *const *) search, &error);
      g_assert_cmpstr (path, ==, files[i]);
      g_free (path);
      g_unlink (files[i]);
    }

  path = perc_model_locate ("squeeze", PERC_CALIBRATION_LPIPS_V0_1, (const char *const *) search, &error);
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

  g_strfreev (search);
  g_free (xdg);
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
  Comparer     *c = comparer_new (model);
  PercImage     a = image (48, 40, 0.4f), b = image (48, 40, 0.6f);
  PercDistance  d = { 0 };
  double       *result = g_new (double, 1);

  for (int i = 0; i < 3; i++)
    g_assert_true (comparer_run (c, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 }, &a, &b, &d, NULL));
  *result = d.distance;
  perc_distance_clear (&d);
  comparer_free (c);
  g_free ((float *) a.rgb);
  g_free ((float *) b.rgb);
  return result;
}

static void
test_threads (void)
{
  PercModel *model = perc_model_load (good, test_microkernel (), NULL);
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

  tmpdir = test_setup (&argc, &argv);
  good = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);
  g_test_add_func ("/model/bad-models", test_bad_models);
  g_test_add_func ("/model/bad-resnets", test_bad_resnets);
  g_test_add_func ("/model/bad-transform", test_bad_transform);
  g_test_add_func ("/model/bad-files", test_bad_files);
  g_test_add_func ("/model/bad-headers", test_bad_headers);
  g_test_add_func ("/model/bad-input", test_bad_input);
  g_test_add_func ("/model/search-order", test_search_order);
  g_test_add_func ("/model/threads", test_threads);
  status = g_test_run ();
  g_free (good);
  return status;
}
