/* What the commands share: the model options, and reading images. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gegl.h>

#include "cli.h"
#include "model/perc-net.h"

gboolean
cli_parse_enum (GType type, const char *nick, int *value, const char *what)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value_by_nick (klass, nick);
  GString    *known;

  if (v)
    {
      *value = v->value;
      g_type_class_unref (klass);
      return TRUE;
    }
  known = g_string_new (NULL);
  for (guint i = 0; i < klass->n_values; i++)
    g_string_append_printf (known, i ? ", %s" : "%s", klass->values[i].value_nick);
  cli_error (_("unknown %s \"%s\" (choose from %s)"), what, nick, known->str);
  g_string_free (known, TRUE);
  g_type_class_unref (klass);
  return FALSE;
}

/* The messages GEGL's loaders log while they read a file: a loader that
 * fails still gives an image (a placeholder, or what it read so far), and
 * says so only in a warning.  Files are read in several threads at once,
 * so one handler stays in place and gives a warning to the reading or
 * writing of the thread that logged it; a warning from another thread (a
 * GEGL worker's) to every one under way, none of which may pass it over.
 */
static GMutex     catch_lock;
static GPtrArray *catching;       /* GString *: the reads and writes under way */
static GPrivate   catch_own;      /* this thread's GString, or NULL */

static void
catch_warning (const char     *domain,
               GLogLevelFlags  level,
               const char     *message,
               gpointer        data G_GNUC_UNUSED)
{
  GString *own = g_private_get (&catch_own);

  g_mutex_lock (&catch_lock);
  if (!catching->len)
    {
      g_mutex_unlock (&catch_lock);
      g_log_default_handler (domain, level, message, NULL);
      return;
    }
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    for (guint i = 0; i < catching->len; i++)
      {
        GString *caught = g_ptr_array_index (catching, i);

        if ((!own || caught == own) && !caught->len)
          g_string_assign (caught, message);
      }
  g_mutex_unlock (&catch_lock);
}

GString *
cli_catch_begin (void)
{
  static gsize installed;
  GString     *caught = g_string_new (NULL);

  if (g_once_init_enter (&installed))
    {
      catching = g_ptr_array_new ();
      g_log_set_default_handler (catch_warning, NULL);
      g_once_init_leave (&installed, 1);
    }
  g_mutex_lock (&catch_lock);
  g_ptr_array_add (catching, caught);
  g_mutex_unlock (&catch_lock);
  g_private_set (&catch_own, caught);
  return caught;
}

void
cli_catch_end (GString *caught)
{
  g_private_set (&catch_own, NULL);
  g_mutex_lock (&catch_lock);
  g_ptr_array_remove_fast (catching, caught);
  g_mutex_unlock (&catch_lock);
  g_string_free (caught, TRUE);
}

GeglBuffer *
cli_load (const char *path,
          GError    **error)
{
  GStatBuf        st;
  GeglNode       *graph, *load, *sink;
  GeglBuffer     *buffer = NULL;
  GeglRectangle   box;
  GString        *caught;
  gboolean        ok = FALSE;
  FILE           *f;

  /* What GEGL would quietly replace with an empty image. */
  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, CLI_ERROR, 0, _("%s: no such file"), path);
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, CLI_ERROR, 0, _("%s is a folder, not an image"), path);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, CLI_ERROR, 0, _("%s is not a regular file"), path);
      return NULL;
    }
  if (!(f = g_fopen (path, "rb")))
    {
      g_set_error (error, CLI_ERROR, 0, _("%s: cannot read the file: %s"), path, g_strerror (errno));
      return NULL;
    }
  fclose (f);

  graph = gegl_node_new ();
  load = gegl_node_new_child (graph, "operation", "gegl:load", "path", path, NULL);
  sink = gegl_node_new_child (graph, "operation", "gegl:buffer-sink",
                              "buffer", &buffer, NULL);
  gegl_node_link (load, sink);
  caught = cli_catch_begin ();
  /* The size from the file's header, before any pixel is decoded. */
  box = gegl_node_get_bounding_box (load);
  if (caught->len || box.width < 1 || box.height < 1)
    g_set_error (error, CLI_ERROR, 0, _("%s: cannot read this image%s%s"), path,
                              caught->len ? ": " : "", caught->str);
  else if (box.width > CLI_MAX_SIDE || box.height > CLI_MAX_SIDE ||
           (guint64) box.width * box.height > CLI_MAX_PIXELS)
    g_set_error (error, CLI_ERROR, 0, _("%s: the image is %d×%d pixels; at most %d pixels a "
                                "side and %d megapixels in all are read"),
                              path, box.width, box.height, CLI_MAX_SIDE,
                              (int) (CLI_MAX_PIXELS / 1000000));
  else
    {
      gegl_node_process (sink);
      if (caught->len)
        g_set_error (error, CLI_ERROR, 0, _("%s: cannot read this image: %s"), path, caught->str);
      else if (!buffer || !gegl_rectangle_equal (gegl_buffer_get_extent (buffer), &box))
        g_set_error (error, CLI_ERROR, 0, _("%s: cannot read this image"), path);
      else
        ok = TRUE;
    }
  cli_catch_end (caught);
  g_object_unref (graph);
  if (!ok)
    g_clear_object (&buffer);
  return buffer;
}

void
cli_model_add_entries (GOptionContext *ctx,
                       CliModelArgs   *a)
{
  char *names = perc_net_builtin_names (", ");
  GOptionEntry entries[] = {
    { "network", 'n', 0, G_OPTION_ARG_STRING, &a->network, NULL, "NET" },
    { "calibration", 'c', 0, G_OPTION_ARG_STRING, &a->calibration,
      N_("lpips-v0.1, lpips-v0.0, unweighted, or default (lpips-v0.1 for the "
         "networks LPIPS calibrated, unweighted for the others; a weights "
         "file's own)"), "CAL" },
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &a->weights,
      N_("a model file instead of the installed model"), "FILE" },
    { "distance", 'd', 0, G_OPTION_ARG_STRING, &a->distance,
      N_("spatial (LPIPS, default), mean-pool or style"), "FUNC" },
    { "layer-subset", 's', 0, G_OPTION_ARG_STRING, &a->layers,
      N_("the layers that make up the distance, e.g. 3 or 1,2,3 (default: "
         "all, the four stages for ResNets)"), "LIST" },
    { NULL }
  };

  /* The networks of the core's table; the first is the default. */
  a->network_help = g_strdup_printf (_("%s (the first is the default), or file (the "
                                       "network in --weights)"), names);
  entries[0].description = a->network_help;
  g_free (names);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
}

gboolean
cli_model_choice (const CliModelArgs *a,
                  PerceptualChoice   *choice)
{
  int net, cal, func;

  if (!cli_parse_enum (perceptual_network_get_type (),
                       a->network ? a->network : a->weights ? "file"
                                                           : perc_net_builtins ()[0].name,
                       &net, _("network")) ||
      !cli_parse_enum (perceptual_calibration_get_type (),
                       a->calibration ? a->calibration : "default", &cal, _("calibration")) ||
      !cli_parse_enum (perceptual_distance_function_get_type (),
                       a->distance ? a->distance : "spatial", &func, _("distance function")))
    return FALSE;
  *choice = (PerceptualChoice) { net, cal, a->weights, func, a->layers };
  return TRUE;
}

void
cli_model_args_clear (CliModelArgs *a)
{
  g_free (a->network);
  g_free (a->calibration);
  g_free (a->weights);
  g_free (a->distance);
  g_free (a->layers);
  g_free (a->network_help);
  memset (a, 0, sizeof *a);
}
