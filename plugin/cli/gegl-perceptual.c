/* gegl-perceptual: compare images perceptually from the command line.
 *
 *   gegl-perceptual compare REF DIST [options]
 *   gegl-perceptual compare --pairs LIST | DIR1 DIR2 [options]
 *   gegl-perceptual models
 *   gegl-perceptual fetch NETWORK [options]
 *   gegl-perceptual 2afc|jnd DIR [options]
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <glib/gi18n-lib.h>

#include "cli.h"
#include "gegl/perceptual-settings.h"

void
cli_error (const char *format,
           ...)
{
  va_list args;
  char   *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "gegl-perceptual: %s\n", message);
  g_free (message);
}

char *
cli_json_string (const char *value)
{
  GString *s = g_string_new ("\"");

  for (const char *p = value; *p; p++)
    switch (*p)
      {
      case '"':  g_string_append (s, "\\\""); break;
      case '\\': g_string_append (s, "\\\\"); break;
      case '\n': g_string_append (s, "\\n"); break;
      case '\t': g_string_append (s, "\\t"); break;
      default:
        if ((guchar) *p < 0x20)
          g_string_append_printf (s, "\\u%04x", *p);
        else
          g_string_append_c (s, *p);
      }
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

G_DEFINE_QUARK (gegl-perceptual-cli-error, cli_error)

int
cli_threads (void)
{
  static gsize threads = 0;

  /* What BLIS and OpenMP programs take, else every core. */
  if (g_once_init_enter (&threads))
    {
      const char *env = g_getenv ("BLIS_NUM_THREADS");
      int         n;

      if (!env)
        env = g_getenv ("OMP_NUM_THREADS");
      n = env ? atoi (env) : 0;
      g_once_init_leave (&threads, n > 0 ? n : (int) g_get_num_processors ());
    }
  return threads;
}

static void
usage (FILE *out)
{
  fprintf (out, "%s",
           _("Usage: gegl-perceptual COMMAND ...\n"
             "\n"
             "Commands:\n"
             "  compare REF DIST   the perceptual distance (LPIPS) of DIST from REF\n"
             "  compare --pairs LIST | compare DIR1 DIR2\n"
             "                     many pairs: one JSON line (or CSV row) each\n"
             "  models             the installed models, and how to install others\n"
             "  fetch NETWORK      install a model (from a mirror or the official files)\n"
             "  2afc DIR           the 2AFC scores of a distance on a BAPPS-layout data set\n"
             "  jnd DIR            the JND mAP of a distance on a BAPPS-layout data set\n"
             "\n"
             "\"gegl-perceptual COMMAND --help\" describes a command's options.\n"));
}

int
main (int argc, char **argv)
{
  const char *localedir = g_getenv ("GEGL_PERCEPTUAL_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  perceptual_settings_init ();

  if (argc < 2 || !g_strcmp0 (argv[1], "--help") || !g_strcmp0 (argv[1], "-h"))
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (!g_strcmp0 (argv[1], "--version"))
    {
      printf ("gegl-perceptual %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (!g_strcmp0 (argv[1], "compare"))
    return cli_compare (argc - 1, argv + 1);
  if (!g_strcmp0 (argv[1], "models"))
    return cli_models (argc - 1, argv + 1);
  if (!g_strcmp0 (argv[1], "fetch"))
    return cli_fetch (argc - 1, argv + 1);
  if (!g_strcmp0 (argv[1], "2afc"))
    return cli_2afc (argc - 1, argv + 1);
  if (!g_strcmp0 (argv[1], "jnd"))
    return cli_jnd (argc - 1, argv + 1);
  cli_error (_("unknown command \"%s\""), argv[1]);
  usage (stderr);
  return 2;
}
