/* perceptual:heatmap: where two images differ visibly, as a colour map
 * laid over the reference.  A meta op: perceptual:distance makes the map
 * (block by block, kept in its cache) and perceptual:distance-overlay
 * colours it, so that a new colour map, range or opacity redraws without
 * running the network.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "perceptual-colormaps.h"
#include "perceptual-enums.h"

#ifdef GEGL_PROPERTIES

#include "perceptual-model-properties.h"
#include "perceptual-look-properties.h"

property_double (distance, _("Distance"), 0.0)
  description (_("The perceptual distance of the whole overlap, computed when "
                 "it is read; NaN when nothing could be compared"))
  ui_meta ("role", "output-extent")

#else

#define GEGL_OP_META
#define GEGL_OP_NAME     perceptual_heatmap
#define GEGL_OP_C_SOURCE perceptual-heatmap.c

#include "gegl-op.h"
#include "perceptual-connect.h"

static void (*chant_get_property) (GObject *, guint, GValue *, GParamSpec *);

/* The map's progress is the heatmap's. */
static void
forward_progress (GeglNode *distance,
                  gdouble   progress,
                  GeglNode *heatmap)
{
  gegl_node_progress (heatmap, progress, "");
}

static void
attach (GeglOperation *operation)
{
  GeglNode *graph = operation->node;
  GeglNode *input = gegl_node_get_input_proxy (graph, "input");
  GeglNode *aux = gegl_node_get_input_proxy (graph, "aux");
  GeglNode *output = gegl_node_get_output_proxy (graph, "output");
  GeglNode *distance = gegl_node_new_child (graph, "operation", "perceptual:distance", NULL);
  GeglNode *overlay = gegl_node_new_child (graph, "operation", "perceptual:distance-overlay",
                                           NULL);
  static const char *const model[] = { "network", "calibration", "weights",
                                       "distance-function", "layer-subset" };
  static const char *const look[] = { "colormap", "auto-range", "range-min", "range-max",
                                      "opacity" };

  perceptual_connect (input, distance, "input");
  perceptual_connect (aux, distance, "aux");
  perceptual_connect (input, overlay, "input");
  perceptual_connect (distance, overlay, "aux");
  perceptual_connect (overlay, output, "input");
  for (guint i = 0; i < G_N_ELEMENTS (model); i++)
    gegl_operation_meta_redirect (operation, model[i], distance, model[i]);
  for (guint i = 0; i < G_N_ELEMENTS (look); i++)
    gegl_operation_meta_redirect (operation, look[i], overlay, look[i]);
  g_signal_connect_object (distance, "progress", G_CALLBACK (forward_progress), graph, 0);
  GEGL_PROPERTIES (operation)->user_data = distance;
}

/* The distance and status are the map's. */
static void
read_property (GObject    *object,
               guint       id,
               GValue     *value,
               GParamSpec *pspec)
{
  GeglProperties *o = GEGL_PROPERTIES (object);
  GeglNode       *distance = o->user_data;

  if (distance && !strcmp (pspec->name, "distance"))
    gegl_node_get (distance, "distance", &o->distance, NULL);
  if (distance && (!strcmp (pspec->name, "distance") || !strcmp (pspec->name, "status")))
    {
      g_free (o->status);
      gegl_node_get (distance, "status", &o->status, NULL);
    }
  chant_get_property (object, id, value, pspec);
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GObjectClass       *object_class = G_OBJECT_CLASS (klass);
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS (klass);

  chant_get_property = object_class->get_property;
  object_class->get_property = read_property;
  operation_class->attach = attach;

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
