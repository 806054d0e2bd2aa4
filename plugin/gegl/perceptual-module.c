/* The module that registers the perceptual ops with GEGL. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <gegl-plugin.h>

#include "gegl/perceptual-settings.h"

void gegl_op_perceptual_distance_register_type         (GTypeModule *module);
void gegl_op_perceptual_distance_overlay_register_type (GTypeModule *module);
void gegl_op_perceptual_layer_difference_register_type (GTypeModule *module);
void gegl_op_perceptual_heatmap_register_type          (GTypeModule *module);

static const GeglModuleInfo modinfo =
{
  GEGL_MODULE_ABI_VERSION
};

G_MODULE_EXPORT const GeglModuleInfo *
gegl_module_query (GTypeModule *module)
{
  return &modinfo;
}

G_MODULE_EXPORT gboolean
gegl_module_register (GTypeModule *module)
{
  const char *localedir = g_getenv ("GEGL_PERCEPTUAL_LOCALEDIR");

  /* Before any type: properties get their translated labels as their ops
   * register.
   */
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  /* Before anything calls BLIS. */
  perceptual_settings_init ();

  gegl_op_perceptual_distance_register_type (module);
  gegl_op_perceptual_distance_overlay_register_type (module);
  gegl_op_perceptual_layer_difference_register_type (module);
  gegl_op_perceptual_heatmap_register_type (module);
  return TRUE;
}
