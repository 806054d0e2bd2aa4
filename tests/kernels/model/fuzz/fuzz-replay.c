/* Replays fuzz inputs through the fuzz target without libFuzzer: every
 * file named, and every file in every folder named (sorted, not
 * recursive).  The test suite runs it on tests/kernels/model/fuzz/corpus,
 * so that each seed and each finding stays fixed, built by the normal
 * build and again under AddressSanitizer and UBSan.  The target aborts on a failure;
 * here, a file that cannot be read fails too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerInitialize   (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
replay (const char *path,
        guint      *n)
{
  char   *contents;
  gsize   size;
  GError *error = NULL;

  if (!g_file_get_contents (path, &contents, &size, &error))
    {
      g_printerr ("fuzz-replay: %s\n", error->message);
      exit (1);
    }
  printf ("%s (%" G_GSIZE_FORMAT " bytes)\n", path, size);
  fflush (stdout);
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, size);
  g_free (contents);
  (*n)++;
}

int
main (int    argc,
      char **argv)
{
  guint n = 0;

  if (argc < 2)
    {
      g_printerr ("usage: fuzz-replay FILE-OR-FOLDER...\n");
      return 2;
    }
  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++)
    {
      GDir       *dir = g_dir_open (argv[i], 0, NULL);
      GPtrArray  *names;
      const char *name;

      if (!dir)
        {
          replay (argv[i], &n);
          continue;
        }
      names = g_ptr_array_new_with_free_func (g_free);
      while ((name = g_dir_read_name (dir)))
        g_ptr_array_add (names, g_build_filename (argv[i], name, NULL));
      g_dir_close (dir);
      g_ptr_array_sort (names, compare_names);
      for (guint j = 0; j < names->len; j++)
        replay (names->pdata[j], &n);
      g_ptr_array_unref (names);
    }
  printf ("%u inputs replayed\n", n);
  return n ? 0 : 1;
}
