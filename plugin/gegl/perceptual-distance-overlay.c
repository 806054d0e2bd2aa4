/* perceptual:distance-overlay: a distance map (aux) in colour over an
 * image (input), each colour as opaque as its distance is large: where
 * nothing changed, the image itself shows.  The heatmap's second half,
 * on its own so that a new colour map redraws without the network.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "perceptual-colormaps.h"
#include "perceptual-enums.h"

#ifdef GEGL_PROPERTIES

#include "perceptual-look-properties.h"

#else

#define GEGL_OP_COMPOSER
#define GEGL_OP_NAME     perceptual_distance_overlay
#define GEGL_OP_C_SOURCE perceptual-distance-overlay.c

#include "gegl-op.h"

static void
prepare (GeglOperation *operation)
{
  const Babl *space = gegl_operation_get_source_space (operation, "input");

  gegl_operation_set_format (operation, "input",
                             babl_format_with_space ("R'G'B'A float", space));
  gegl_operation_set_format (operation, "aux", babl_format_with_space ("Y float", space));
  gegl_operation_set_format (operation, "output",
                             babl_format_with_space ("R'G'B'A float", space));
}

/* A map op that could not compare passes its colour input through: then
 * there is no map, and nothing to paint.
 */
static gboolean
have_map (GeglOperation *operation)
{
  const Babl *aux = gegl_operation_get_source_format (operation, "aux");

  return aux && babl_format_get_n_components (aux) == 1;
}

static GeglRectangle
get_required_for_output (GeglOperation       *operation,
                         const gchar         *input_pad,
                         const GeglRectangle *roi)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  GeglRectangle  *aux = gegl_operation_source_get_bounding_box (operation, "aux");

  /* The automatic range needs the largest distance of the whole map. */
  if (!strcmp (input_pad, "aux") && o->auto_range && aux && have_map (operation))
    return *aux;
  return *roi;
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *aux,
         GeglBuffer          *output,
         const GeglRectangle *roi,
         gint                 level)
{
  GeglProperties     *o = GEGL_PROPERTIES (operation);
  const Babl         *format = gegl_operation_get_format (operation, "output");
  const Babl         *y_float = gegl_operation_get_format (operation, "aux");
  const char         *colormap = perceptual_enum_nick (perceptual_colormap_name_get_type (),
                                                       o->colormap);
  double              lo = o->range_min, hi = o->range_max;
  GeglBufferIterator *it;

  if (!aux || !have_map (operation))
    {
      gegl_buffer_copy (input, roi, GEGL_ABYSS_NONE, output, roi);
      return TRUE;
    }
  if (o->auto_range)
    {
      lo = hi = 0;
      it = gegl_buffer_iterator_new (aux, gegl_buffer_get_extent (aux), 0, y_float,
                                     GEGL_ACCESS_READ, GEGL_ABYSS_NONE, 1);
      while (gegl_buffer_iterator_next (it))
        for (int i = 0; i < it->length; i++)
          hi = MAX (hi, ((float *) it->items[0].data)[i]);
    }
  it = gegl_buffer_iterator_new (output, roi, level, format, GEGL_ACCESS_WRITE,
                                 GEGL_ABYSS_NONE, 3);
  gegl_buffer_iterator_add (it, input, roi, level, format, GEGL_ACCESS_READ, GEGL_ABYSS_NONE);
  gegl_buffer_iterator_add (it, aux, roi, level, y_float, GEGL_ACCESS_READ, GEGL_ABYSS_NONE);
  while (gegl_buffer_iterator_next (it))
    {
      float *out = it->items[0].data;

      memcpy (out, it->items[1].data, (gsize) it->length * 4 * sizeof (float));
      perceptual_colormap_paint (it->items[2].data, it->length, colormap,
                                 lo, hi, o->opacity, out);
    }
  return TRUE;
}

static GeglRectangle
get_bounding_box (GeglOperation *operation)
{
  GeglRectangle *in = gegl_operation_source_get_bounding_box (operation, "input");

  return in ? *in : (GeglRectangle) { 0, 0, 0, 0 };
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GeglOperationClass         *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationComposerClass *composer_class = GEGL_OPERATION_COMPOSER_CLASS (klass);

  operation_class->prepare = prepare;
  operation_class->get_bounding_box = get_bounding_box;
  operation_class->get_required_for_output = get_required_for_output;
  operation_class->threaded = TRUE;
  composer_class->process = process;
  composer_class->aux_label = _("Distance map");
  composer_class->aux_description = _("A perceptual distance map, as "
                                      "perceptual:distance makes it");

  gegl_operation_class_set_keys (operation_class,
    "name",        "perceptual:distance-overlay",
    "title",       _("Perceptual Distance Overlay"),
    "categories",  "analysis",
    "description", _("Paints a perceptual distance map (aux) in colour over "
                     "the input, each colour as opaque as its distance is "
                     "large, on a fixed scale by default"),
    NULL);
}

#endif
