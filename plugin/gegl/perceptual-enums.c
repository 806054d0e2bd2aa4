#include "config.h"

#include <glib/gi18n-lib.h>

#include "perceptual-enums.h"

/* Registers an enum once, with its value names translated. */
static GType
register_enum (const char *name,
               GEnumValue *values)
{
  for (GEnumValue *v = values; v->value_name; v++)
    v->value_name = dgettext (GETTEXT_PACKAGE, v->value_name);
  return g_enum_register_static (name, values);
}

GType
perceptual_network_get_type (void)
{
  static gsize type = 0;
  static GEnumValue values[] = {
    { PERCEPTUAL_NETWORK_SQUEEZE, N_("SqueezeNet 1.1"), "squeeze" },
    { PERCEPTUAL_NETWORK_ALEX,    N_("AlexNet"),        "alex" },
    { PERCEPTUAL_NETWORK_VGG,     N_("VGG-16"),         "vgg" },
    { PERCEPTUAL_NETWORK_RESNET18, N_("ResNet-18"),     "resnet18" },
    { PERCEPTUAL_NETWORK_RESNET34, N_("ResNet-34"),     "resnet34" },
    { PERCEPTUAL_NETWORK_RESNET50, N_("ResNet-50"),     "resnet50" },
    { PERCEPTUAL_NETWORK_FILE,    N_("From the weights file"), "file" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, register_enum ("PerceptualNetwork", values));
  return type;
}

GType
perceptual_calibration_get_type (void)
{
  static gsize type = 0;
  static GEnumValue values[] = {
    { PERCEPTUAL_CALIBRATION_LPIPS_V0_1, N_("LPIPS v0.1"), "lpips-v0.1" },
    { PERCEPTUAL_CALIBRATION_LPIPS_V0_0, N_("LPIPS v0.0"), "lpips-v0.0" },
    { PERCEPTUAL_CALIBRATION_UNWEIGHTED, N_("Unweighted"), "unweighted" },
    { PERCEPTUAL_CALIBRATION_DEFAULT,    N_("Network's default"), "default" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, register_enum ("PerceptualCalibration", values));
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
    g_once_init_leave (&type, register_enum ("PerceptualColormapName", values));
  return type;
}

GType
perceptual_distance_function_get_type (void)
{
  static gsize type = 0;
  static GEnumValue values[] = {
    { PERCEPTUAL_DISTANCE_SPATIAL,   N_("Spatial (LPIPS)"), "spatial" },
    { PERCEPTUAL_DISTANCE_MEAN_POOL, N_("Mean-pool"),       "mean-pool" },
    { PERCEPTUAL_DISTANCE_STYLE,     N_("Style (Gram)"),    "style" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, register_enum ("PerceptualDistanceFunction", values));
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
