/* The safetensors parser and model loader on truncated and corrupted
 * files, and on headers made of random JSON tokens: errors, never
 * crashes, hangs or out-of-bounds views.  Every
 * buffer is an exact-size copy so that AddressSanitizer or valgrind sees
 * any read past its end.
 */
#include <string.h>

#include "model/perc-model.h"
#include "support/test-core.h"
#include "support/test-util.h"

static const char *tmpdir;

/* A small valid file: three F32 tensors and metadata. */
static GBytes *
small_file (void)
{
  static const char header[] =
    "{\"__metadata__\":{\"format\":\"x\"},"
    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]},"
    "\"c\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[40,44]}}";
  GByteArray *a = g_byte_array_new ();
  guint64     n = sizeof header - 1;
  guint8      len[8];
  float       data[11];

  for (int i = 0; i < 8; i++)
    len[i] = n >> (8 * i);
  for (int i = 0; i < 11; i++)
    data[i] = i * 0.5f;
  g_byte_array_append (a, len, 8);
  g_byte_array_append (a, (const guint8 *) header, n);
  g_byte_array_append (a, (const guint8 *) data, sizeof data);
  return g_byte_array_free_to_bytes (a);
}

/* Parses a copy of data[0, len); if it parses, every view must lie inside
 * the copy.  Returns whether it parsed (and loaded, with `model`).
 */
static gboolean
try_parse (const guint8 *data, gsize len, gboolean model)
{
  GBytes          *bytes = g_bytes_new (data, len);
  GError          *error = NULL;
  PercSafetensors *st = perc_safetensors_parse ("fuzz", bytes, &error);
  gboolean         ok = st != NULL;

  g_assert_true (ok == (error == NULL));
  if (st)
    {
      const guint8 *base = g_bytes_get_data (bytes, NULL);

      for (guint i = 0; i < perc_safetensors_n_tensors (st); i++)
        {
          const PercTensorView *t = perc_safetensors_tensor (st, i);

          g_assert_true (t->data >= base && t->data + t->n_bytes <= base + len);
        }
      if (model)
        {
          PercModel *m = perc_model_new (st, test_microkernel (), &error);

          ok = m != NULL;
          g_assert_true (ok == (error == NULL));
          perc_model_free (m);
        }
      perc_safetensors_free (st);
    }
  g_clear_error (&error);
  g_bytes_unref (bytes);
  return ok;
}

static void
flip_bits (const guint8 *data, gsize len, GRand *rand, int rounds,
           gsize lo, gsize hi, gboolean model)
{
  guint8 *copy = g_memdup2 (data, len);

  for (int r = 0; r < rounds; r++)
    {
      int    flips = g_rand_int_range (rand, 1, 4);
      gsize  pos[3];

      for (int f = 0; f < flips; f++)
        {
          pos[f] = lo + g_rand_int_range (rand, 0, hi - lo);
          copy[pos[f]] ^= 1 << g_rand_int_range (rand, 0, 8);
        }
      try_parse (copy, len, model);
      memcpy (copy, data, len);
    }
  g_free (copy);
}

static void
test_small (void)
{
  GBytes       *file = small_file ();
  gsize         len;
  const guint8 *data = g_bytes_get_data (file, &len);
  GRand        *rand = g_rand_new_with_seed (1);

  g_assert_true (try_parse (data, len, FALSE));
  for (gsize n = 0; n < len; n++)
    g_assert_false (try_parse (data, n, FALSE));
  flip_bits (data, len, rand, 20000, 0, len, FALSE);
  g_rand_free (rand);
  g_bytes_unref (file);
}

static void
fuzz_model (const char *path)
{
  char         *contents;
  gsize         len, header_end;
  GRand        *rand = g_rand_new_with_seed (2);
  const guint8 *data;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  data = (const guint8 *) contents;
  header_end = 8 + GUINT64_FROM_LE (*(guint64 *) data);
  g_assert_true (try_parse (data, len, TRUE));

  /* Every truncation inside the header and near the end, and some in
   * between.
   */
  for (gsize n = 0; n <= header_end + 16; n++)
    g_assert_false (try_parse (data, n, TRUE));
  for (gsize n = len - 64; n < len; n++)
    g_assert_false (try_parse (data, n, TRUE));
  for (int i = 0; i < 40; i++)
    g_assert_false (try_parse (data, g_rand_int_range (rand, header_end, len), TRUE));

  flip_bits (data, len, rand, 1500, 0, header_end, TRUE);
  flip_bits (data, len, rand, 100, header_end, len, TRUE);

  g_rand_free (rand);
  g_free (contents);
}

static void
test_model (void)
{
  char *path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 3);

  fuzz_model (path);
  g_free (path);
}

/* A ResNet's metadata describes its blocks, and its batch norms are folded
 * in when it loads.
 */
static void
test_resnet (void)
{
  char *path = synth_resnet (tmpdir, "resnet6", "basic", "1,1", "unweighted", 13);

  fuzz_model (path);
  g_free (path);
}

/* Parses `header` (with `data_size` bytes of data) and returns the error
 * message, or NULL if it parsed.
 */
static char *
parse_text (const char *header, gsize length, gsize data_size)
{
  GByteArray *a = g_byte_array_new ();
  guint8      len[8];
  char       *message = NULL;

  for (int i = 0; i < 8; i++)
    len[i] = (guint64) length >> (8 * i);
  g_byte_array_append (a, len, 8);
  g_byte_array_append (a, (const guint8 *) header, length);
  g_byte_array_set_size (a, 8 + length + data_size);
  if (!try_parse (a->data, a->len, FALSE))
    {
      GBytes *bytes = g_bytes_new (a->data, a->len);
      GError *error = NULL;

      g_assert_null (perc_safetensors_parse ("fuzz", bytes, &error));
      message = g_strdup (error->message);
      g_error_free (error);
      g_bytes_unref (bytes);
    }
  g_byte_array_free (a, TRUE);
  return message;
}

/* Far deeper than json-glib's recursion survives: refused at once. */
static void
test_deep (void)
{
  const char *const opens[] = { "[", "{\"a\":" };

  for (guint k = 0; k < G_N_ELEMENTS (opens); k++)
    {
      GString *s = g_string_new ("{\"a\":");
      char    *message;

      for (int i = 0; i < 75000; i++)
        g_string_append (s, opens[k]);
      message = parse_text (s->str, s->len, 0);
      g_assert_nonnull (strstr (message, "nested deeper than the 3 levels"));
      g_free (message);
      g_string_free (s, TRUE);
    }
}

/* Random sequences of JSON tokens as headers: the header scanner and
 * json-glib must agree (the loader warns, fatally in a test, when they
 * count different members), and json-glib must never refuse what the
 * scanner let through.
 */
static void
test_tokens (void)
{
  static const char *const tokens[] = {
    "{", "}", "[", "]", ":", ",", " ", "\"a\"", "\"b\"", "\"\\u0061\"",
    "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"\\u0000\"", "\"\\n\"", "\"__metadata__\"",
    "\"dtype\"", "\"F32\"", "\"shape\"", "\"data_offsets\"", "0", "4", "-1", "1.5e3",
    "01", "1.", "true", "null", "fals", "\"", "\\",
  };
  GRand *rand = g_rand_new_with_seed (3);
  guint  parsed = 0;

  for (int r = 0; r < 50000; r++)
    {
      GString *s = g_string_new (g_rand_int_range (rand, 0, 8) ? "{" : "");
      int      n = g_rand_int_range (rand, 0, 24);
      char    *message;

      for (int i = 0; i < n; i++)
        g_string_append (s, tokens[g_rand_int_range (rand, 0, G_N_ELEMENTS (tokens))]);
      if (g_rand_boolean (rand))
        g_string_append (s, "}");
      message = parse_text (s->str, s->len, g_rand_int_range (rand, 0, 3) * 4);
      if (message && strstr (message, "Parse error"))
        g_error ("json-glib refused what the scanner accepted: %s: %s", s->str, message);
      parsed += message == NULL;
      g_free (message);
      g_string_free (s, TRUE);
    }
  if (g_test_verbose ())
    g_printerr ("  %u of 50000 parsed\n", parsed);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  tmpdir = test_setup (&argc, &argv);
  g_test_add_func ("/fuzz/small-file", test_small);
  g_test_add_func ("/fuzz/deep-nesting", test_deep);
  g_test_add_func ("/fuzz/token-headers", test_tokens);
  g_test_add_func ("/fuzz/model-file", test_model);
  g_test_add_func ("/fuzz/resnet-file", test_resnet);
  return g_test_run ();
}
