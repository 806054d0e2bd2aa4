#include "config.h"

#include <glib/gi18n-lib.h>

#include "gegl/perceptual-colormaps.h"
#include "gegl/perceptual-enums.h"
#include "model/perc-net.h"

/* Registers an enum once, with its value names translated. */
static GType
register_enum (const char *name,
               GEnumValue *values)
{
  for (GEnumValue *v = values; v->value_name; v++)
    v->value_name = dgettext (GETTEXT_PACKAGE, v->value_name);
  return g_enum_register_static (name, values);
}

PerceptualNetwork
perceptual_network_file (void)
{
  PerceptualNetwork n = 0;

  while (perc_net_builtins ()[n].name)
    n++;
  return n;
}

GType
perceptual_network_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type))
    {
      /* Every row of the core's table, then the weights file's network. */
      int         n = perceptual_network_file ();
      GEnumValue *values = g_new0 (GEnumValue, n + 2);

      for (int i = 0; i < n; i++)
        values[i] = (GEnumValue) { i, perc_net_builtins ()[i].label,
                                   perc_net_builtins ()[i].name };
      values[n] = (GEnumValue) { n, N_("From the weights file"), "file" };
      g_once_init_leave (&type, register_enum ("PerceptualNetwork", values));
    }
  return type;
}

PerceptualNetwork
perceptual_network_value (const char *name)
{
  const PercNetInfo *info = perc_net_builtin (name);

  if (info)
    return info - perc_net_builtins ();
  return !g_strcmp0 (name, "file") ? perceptual_network_file () : -1;
}

GType
perceptual_calibration_get_type (void)
{
  static gsize type = 0;
  static const char *const labels[] = {
    [PERC_CALIBRATION_LPIPS_V0_1] = N_("LPIPS v0.1"),
    [PERC_CALIBRATION_LPIPS_V0_0] = N_("LPIPS v0.0"),
    [PERC_CALIBRATION_UNWEIGHTED] = N_("Unweighted"),
  };
  static GEnumValue values[G_N_ELEMENTS (labels) + 2];

  if (g_once_init_enter (&type))
    {
      for (guint c = 0; c < G_N_ELEMENTS (labels); c++)
        values[c] = (GEnumValue) { c, labels[c], perc_calibration_name (c) };
      values[PERCEPTUAL_CALIBRATION_DEFAULT] =
        (GEnumValue) { PERCEPTUAL_CALIBRATION_DEFAULT, N_("Network's default"), "default" };
      g_once_init_leave (&type, register_enum ("PerceptualCalibration", values));
    }
  return type;
}

GType
perceptual_colormap_name_get_type (void)
{
  static gsize type = 0;
  static GEnumValue values[] = {
    { PERCEPTUAL_COLORMAP_MAGMA,   N_("Magma"),   "magma" },
    { PERCEPTUAL_COLORMAP_INFERNO, N_("Inferno"), "inferno" },
    { PERCEPTUAL_COLORMAP_VIRIDIS, N_("Viridis"), "viridis" },
    { PERCEPTUAL_COLORMAP_TURBO,   N_("Turbo"),   "turbo" },
    { PERCEPTUAL_COLORMAP_GRAY,    N_("Gray"),    "gray" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type))
    {
      /* The tables' maps (data/colormaps), then gray. */
      for (int i = 0; i < PERCEPTUAL_COLORMAP_GRAY; i++)
        g_assert_cmpstr (perceptual_colormaps[i].name, ==, values[i].value_nick);
      g_assert_null (perceptual_colormaps[PERCEPTUAL_COLORMAP_GRAY].name);
      g_once_init_leave (&type, register_enum ("PerceptualColormapName", values));
    }
  return type;
}

GType
perceptual_distance_function_get_type (void)
{
  static gsize type = 0;
  static const char *const labels[] = {
    [PERC_DISTANCE_SPATIAL]   = N_("Spatial (LPIPS)"),
    [PERC_DISTANCE_MEAN_POOL] = N_("Mean-pool"),
    [PERC_DISTANCE_STYLE]     = N_("Style (Gram)"),
  };
  static GEnumValue values[G_N_ELEMENTS (labels) + 1];

  if (g_once_init_enter (&type))
    {
      for (guint k = 0; k < G_N_ELEMENTS (labels); k++)
        values[k] = (GEnumValue) { k, labels[k], perc_distance_kind_name (k) };
      g_once_init_leave (&type, register_enum ("PerceptualDistanceFunction", values));
    }
  return type;
}

const char *
perceptual_enum_nick (GType type,
                      int   value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value (klass, value);
  const char *nick = v ? v->value_nick : NULL;

  g_type_class_unref (klass);
  return nick;
}

const char *
perceptual_network_name (PerceptualNetwork network)
{
  return perceptual_enum_nick (perceptual_network_get_type (), network);
}
