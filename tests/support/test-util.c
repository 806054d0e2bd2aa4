#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "support/test-util.h"

char *
synth_model (const char *dir,
             const char *network,
             const char *calibration,
             gint64      seed)
{
  return synth_resnet (dir, network, NULL, NULL, calibration, seed);
}

char *
synth_resnet (const char *dir,
              const char *network,
              const char *block,
              const char *blocks,
              const char *calibration,
              gint64      seed)
{
  char *name = g_strdup_printf ("synth-%s-%s-%" G_GINT64_FORMAT ".safetensors",
                                network, calibration, seed);
  char *path = g_build_filename (dir, name, NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      char      *script = g_test_build_filename (G_TEST_DIST, "synth_weights.py", NULL);
      char      *seed_arg = g_strdup_printf ("%" G_GINT64_FORMAT, seed);
      GPtrArray *argv = g_ptr_array_new ();
      int        status;
      GError    *error = NULL;

      g_assert_nonnull (g_getenv ("PYTHON3"));
      for (const char *const *a = (const char *const []) {
             g_getenv ("PYTHON3"), script, "--network", network,
             "--calibration", calibration, "--seed", seed_arg, "-o", path, NULL };
           *a; a++)
        g_ptr_array_add (argv, (gpointer) *a);
      if (block)
        {
          g_ptr_array_add (argv, "--resnet-block");
          g_ptr_array_add (argv, (gpointer) block);
          g_ptr_array_add (argv, "--resnet-blocks");
          g_ptr_array_add (argv, (gpointer) blocks);
        }
      g_ptr_array_add (argv, NULL);
      g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_ptr_array_free (argv, TRUE);
      g_free (script);
      g_free (seed_arg);
    }
  g_free (name);
  return path;
}

static char *temp_dir;
static pid_t temp_dir_owner;

/* Only the process that made the folder removes it. */
static void
remove_temp_dir (void)
{
  if (temp_dir && getpid () == temp_dir_owner)
    remove_dir (temp_dir);
  g_clear_pointer (&temp_dir, g_free);
}

const char *
test_setup (int    *argc,
            char ***argv)
{
  GError *error = NULL;

  g_assert_null (temp_dir);
  g_test_init (argc, argv, NULL);
  temp_dir = g_dir_make_tmp ("perc-test-XXXXXX", &error);
  g_assert_no_error (error);
  temp_dir_owner = getpid ();
  atexit (remove_temp_dir);
  return temp_dir;
}

void
remove_dir (const char *dir)
{
  GDir       *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      char *p = g_build_filename (dir, name, NULL);

      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        remove_dir (p);
      else
        g_unlink (p);
      g_free (p);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
}

void
write_file (const char *path, const void *data, gsize size)
{
  GError *error = NULL;

  g_file_set_contents (path, data, size, &error);
  g_assert_no_error (error);
}

void
rewrite_model (const char *src,
               const char *dst,
               HeaderEdit  edit,
               gpointer    user_data)
{
  char          *contents, *text;
  gsize          size, text_len;
  guint64        header_len = 0;
  JsonParser    *parser = json_parser_new ();
  JsonGenerator *gen = json_generator_new ();
  GByteArray    *out = g_byte_array_new ();
  GError        *error = NULL;
  guint8         len_bytes[8];

  g_file_get_contents (src, &contents, &size, &error);
  g_assert_no_error (error);
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | (guint8) contents[i];
  json_parser_load_from_data (parser, contents + 8, header_len, &error);
  g_assert_no_error (error);
  edit (json_node_get_object (json_parser_get_root (parser)), user_data);
  json_generator_set_root (gen, json_parser_get_root (parser));
  text = json_generator_to_data (gen, &text_len);
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint64) text_len >> (8 * i);
  g_byte_array_append (out, len_bytes, 8);
  g_byte_array_append (out, (guint8 *) text, text_len);
  g_byte_array_append (out, (guint8 *) contents + 8 + header_len, size - 8 - header_len);
  write_file (dst, out->data, out->len);

  g_byte_array_free (out, TRUE);
  g_free (text);
  g_free (contents);
  g_object_unref (gen);
  g_object_unref (parser);
}

float *
read_npy (const char *path, int *rank, gint64 shape[4])
{
  char   *contents, *dict, *p;
  gsize   size, header_len, n = 1;
  GError *error = NULL;
  float  *data;

  g_file_get_contents (path, &contents, &size, &error);
  g_assert_no_error (error);
  g_assert_true (size > 10 && !memcmp (contents, "\x93NUMPY", 6));
  header_len = contents[8] | (guint8) contents[9] << 8;
  if (contents[6] != 1)         /* version 2 and 3: 4-byte length */
    header_len = *(guint32 *) (contents + 8), header_len += 2;
  dict = g_strndup (contents + 10, header_len);
  g_assert_nonnull (strstr (dict, "'descr': '<f4'"));
  g_assert_nonnull (strstr (dict, "'fortran_order': False"));
  p = strstr (dict, "'shape': (");
  g_assert_nonnull (p);
  p += strlen ("'shape': (");
  for (*rank = 0; *p != ')'; (*rank)++)
    {
      g_assert_cmpint (*rank, <, 4);
      shape[*rank] = g_ascii_strtoll (p, &p, 10);
      n *= shape[*rank];
      while (*p == ',' || *p == ' ')
        p++;
    }
  g_assert_cmpuint (size, ==, 10 + header_len + n * 4);
  data = g_memdup2 (contents + 10 + header_len, n * 4);
  g_free (dict);
  g_free (contents);
  return data;
}
