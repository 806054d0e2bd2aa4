/* What the commands share: the model options, and reading images. */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <gegl.h>

#include "cli.h"

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

GeglBuffer *
cli_load (const char *path,
          char      **error)
{
  GeglNode   *graph, *sink;
  GeglBuffer *buffer = NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      *error = g_strdup_printf (_("%s: no such file"), path);
      return NULL;
    }
  graph = gegl_node_new ();
  sink = gegl_node_new_child (graph, "operation", "gegl:buffer-sink",
                              "buffer", &buffer, NULL);
  gegl_node_link (gegl_node_new_child (graph, "operation", "gegl:load",
                                       "path", path, NULL), sink);
  gegl_node_process (sink);
  g_object_unref (graph);
  if (!buffer || gegl_buffer_get_width (buffer) < 1 || gegl_buffer_get_height (buffer) < 1)
    {
      g_clear_object (&buffer);
      *error = g_strdup_printf (_("%s: cannot read this image"), path);
    }
  return buffer;
}

void
cli_model_add_entries (GOptionContext *ctx,
                       CliModelArgs   *a)
{
  GOptionEntry entries[] = {
    { "network", 'n', 0, G_OPTION_ARG_STRING, &a->network,
      N_("squeeze (default), alex, vgg, resnet18, resnet34, resnet50, or file "
         "(the network in --weights)"), "NET" },
    { "calibration", 'c', 0, G_OPTION_ARG_STRING, &a->calibration,
      N_("lpips-v0.1, lpips-v0.0, unweighted, or default (lpips-v0.1 for "
         "squeeze, alex, vgg; unweighted for ResNets; a weights file's own)"), "CAL" },
    { "weights", 'w', 0, G_OPTION_ARG_FILENAME, &a->weights,
      N_("a model file instead of the installed model"), "FILE" },
    { "distance", 'd', 0, G_OPTION_ARG_STRING, &a->distance,
      N_("spatial (LPIPS, default), mean-pool or style"), "FUNC" },
    { "layer-subset", 's', 0, G_OPTION_ARG_STRING, &a->layers,
      N_("the layers that make up the distance, e.g. 3 or 1,2,3 (default: "
         "all, the four stages for ResNets)"), "LIST" },
    { NULL }
  };

  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
}

gboolean
cli_model_choice (const CliModelArgs *a,
                  PerceptualChoice   *choice)
{
  int net, cal, func;

  if (!cli_parse_enum (perceptual_network_get_type (),
                       a->network ? a->network : a->weights ? "file" : "squeeze",
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
  memset (a, 0, sizeof *a);
}
