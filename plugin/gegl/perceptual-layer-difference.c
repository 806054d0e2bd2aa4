/* perceptual:layer-difference: the difference image of one network layer,
 * at the image's size or at the layer's own resolution, and that layer's
 * term of the distance.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "perceptual-enums.h"

#ifdef GEGL_PROPERTIES

#include "perceptual-model-properties.h"

property_int (layer, _("Layer"), 1)
  description (_("Which layer, from 1 (the first, finest) to the network's "
                 "last: 7 for SqueezeNet, 5 for AlexNet and VGG-16, 4 stages "
                 "and then the stem (5) for ResNets"))
  value_range (1, 7)

property_boolean (layer_resolution, _("At the layer's resolution"), FALSE)
  description (_("Output the layer's own grid of differences instead of "
                 "resizing it to the image's size"))

property_double (distance, _("Distance"), 0.0)
  description (_("The whole perceptual distance, computed when it is read; "
                 "NaN when nothing could be compared"))
  ui_meta ("role", "output-extent")

property_double (term, _("Layer term"), 0.0)
  description (_("This layer's share of the distance (the mean of its "
                 "difference image), computed when it is read; NaN when "
                 "nothing could be compared"))
  ui_meta ("role", "output-extent")

#else

#define GEGL_OP_COMPOSER
#define GEGL_OP_NAME     perceptual_layer_difference
#define GEGL_OP_C_SOURCE perceptual-layer-difference.c

#include "gegl-op.h"
#include "model/perc-net.h"
#include "perceptual-blocks.h"
#include "perceptual-compare.h"
#include "perceptual-models.h"

static void (*chant_get_property) (GObject *, guint, GValue *, GParamSpec *);

static void
prepare (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);

  perceptual_blocks_prepare (operation, &PERCEPTUAL_CHOICE (o), o->layer - 1,
                             o->layer_resolution, "Y float");
}

/* The layer's grid for an image the size of the input and aux overlap,
 * placed at the overlap's origin; empty if the layer does not exist or the
 * image is too small.
 */
static GeglRectangle
layer_extent (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  GeglRectangle   area = perceptual_input_extent (operation);
  GeglRectangle  *aux = gegl_operation_source_get_bounding_box (operation, "aux");
  GeglRectangle   out = { area.x, area.y, 0, 0 };
  PercMetric      metric;
  const PercModel *model = perceptual_models_get (&PERCEPTUAL_CHOICE (o), &metric, NULL);
  const PercNet  *net = model ? model->net : NULL;
  PercShape      *shapes;

  if (aux && !gegl_rectangle_is_infinite_plane (aux))
    gegl_rectangle_intersect (&area, &area, aux);
  out.x = area.x;
  out.y = area.y;
  if (!net)
    return out;
  shapes = g_new (PercShape, net->n_buffers);
  if (o->layer <= net->n_taps &&
      perc_net_shapes (net, area.width, area.height, shapes))
    {
      out.width = shapes[net->taps[o->layer - 1]].w;
      out.height = shapes[net->taps[o->layer - 1]].h;
    }
  g_free (shapes);
  perceptual_models_release (model);
  return out;
}

static GeglRectangle
get_bounding_box (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);

  return o->layer_resolution ? layer_extent (operation)
                             : perceptual_input_extent (operation);
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *aux,
         GeglBuffer          *output,
         const GeglRectangle *roi,
         gint                 level)
{
  perceptual_blocks_process (operation, input, aux, output, roi,
                             &GEGL_PROPERTIES (operation)->status);
  return TRUE;
}

static void
read_property (GObject    *object,
               guint       id,
               GValue     *value,
               GParamSpec *pspec)
{
  GeglProperties *o = GEGL_PROPERTIES (object);

  if (!strcmp (pspec->name, "distance") || !strcmp (pspec->name, "term"))
    perceptual_blocks_read (GEGL_OPERATION (object), &PERCEPTUAL_CHOICE (o), o->layer - 1,
                            &o->distance, &o->term, &o->status);
  chant_get_property (object, id, value, pspec);
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GObjectClass               *object_class = G_OBJECT_CLASS (klass);
  GeglOperationClass         *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationComposerClass *composer_class = GEGL_OPERATION_COMPOSER_CLASS (klass);

  chant_get_property = object_class->get_property;
  object_class->get_property = read_property;
  operation_class->prepare = prepare;
  perceptual_blocks_class_init (operation_class);
  operation_class->get_bounding_box = get_bounding_box;
  composer_class->process = process;

  gegl_operation_class_set_keys (operation_class,
    "name",        "perceptual:layer-difference",
    "title",       _("Perceptual Layer Difference"),
    "categories",  "analysis",
    "description", _("Where one layer of the network sees the two images "
                     "differ: a grayscale image of that layer's weighted "
                     "feature differences, resized to the input's size or at "
                     "the layer's own resolution, and the layer's share of "
                     "the distance in the \"term\" property. Early layers "
                     "respond to fine detail, later ones to larger "
                     "structures."),
    NULL);
}

#endif
