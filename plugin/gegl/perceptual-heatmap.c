/* perceptual:heatmap: where two images differ visibly, as a colour map
 * laid over the reference.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "perceptual-enums.h"

#ifdef GEGL_PROPERTIES

#include "perceptual-model-properties.h"

property_enum (colormap, _("Colour map"),
               PerceptualColormapName, perceptual_colormap_name,
               PERCEPTUAL_COLORMAP_MAGMA)
  description (_("How distances become colours, from small to large"))

property_boolean (auto_range, _("Automatic range"), TRUE)
  description (_("Stretch the colour map from 0 to the largest distance in "
                 "the map, instead of using the fixed range below"))

property_double (range_min, _("Range start"), 0.0)
  description (_("The distance shown with the colour map's first colour"))
  value_range (0.0, 100.0)
  ui_range (0.0, 2.0)

property_double (range_max, _("Range end"), 1.0)
  description (_("The distance shown with the colour map's last colour"))
  value_range (0.0, 100.0)
  ui_range (0.0, 2.0)

property_double (opacity, _("Opacity"), 0.7)
  description (_("How much the colours cover the reference image"))
  value_range (0.0, 1.0)

property_double (distance, _("Distance"), 0.0)
  description (_("The perceptual distance, computed with the map; NaN when "
                 "nothing could be compared"))
  ui_meta ("role", "output-extent")

#else

#define GEGL_OP_COMPOSER
#define GEGL_OP_NAME     perceptual_heatmap
#define GEGL_OP_C_SOURCE perceptual-heatmap.c

#include "gegl-op.h"
#include "perceptual-colormaps.h"
#include "perceptual-compare.h"

static void
prepare (GeglOperation *operation)
{
  perceptual_prepare (operation, "R'G'B'A float");
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *aux,
         GeglBuffer          *output,
         const GeglRectangle *roi,
         gint                 level)
{
  GeglProperties  *o = GEGL_PROPERTIES (operation);
  const Babl      *format = gegl_operation_get_format (operation, "output");
  PerceptualResult r;

  const Babl      *space = gegl_operation_get_source_space (operation, "input");
  GeglBuffer      *map = gegl_buffer_new (gegl_buffer_get_extent (input),
                                          babl_format_with_space ("Y float", space));

  perceptual_compare (space, input, aux, &PERCEPTUAL_CHOICE (o),
                      &(PerceptualMap) { map, -1, FALSE },
                      perceptual_gegl_threads (), perceptual_progress, operation, &r);
  /* The reference shows wherever nothing was compared. */
  gegl_buffer_copy (input, NULL, GEGL_ABYSS_NONE, output, NULL);
  o->distance = r.ok ? r.distance.distance : NAN;
  if (r.ok && r.has_map)
    perceptual_paint_heatmap (input, map, &r.area,
                              perceptual_enum_nick (perceptual_colormap_name_get_type (),
                                                    o->colormap),
                              o->auto_range, o->range_min, o->range_max, o->opacity,
                              output, format);
  g_object_unref (map);
  perceptual_result_finish (&r, &o->status);
  return TRUE;
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GeglOperationClass         *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationComposerClass *composer_class = GEGL_OPERATION_COMPOSER_CLASS (klass);

  operation_class->prepare = prepare;
  perceptual_class_init (operation_class);
  composer_class->process = process;

  gegl_operation_class_set_keys (operation_class,
    "name",        "perceptual:heatmap",
    "title",       _("Perceptual Difference Heatmap"),
    "categories",  "analysis",
    "description", _("Shows where the compared image (aux) differs visibly "
                     "from the input: the perceptual distance map (LPIPS) in "
                     "colour over the input. The whole distance is in the "
                     "\"distance\" property."),
    NULL);
}

#endif
