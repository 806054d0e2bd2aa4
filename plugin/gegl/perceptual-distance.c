/* perceptual:distance: the LPIPS distance between two images, as a map the
 * size of the reference, computed block by block, and as one number.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "perceptual-enums.h"

#ifdef GEGL_PROPERTIES

#include "perceptual-model-properties.h"

property_double (distance, _("Distance"), 0.0)
  description (_("The perceptual distance of the whole overlap, computed when "
                 "it is read (from the map's blocks once all are known); NaN "
                 "when nothing could be compared"))
  ui_meta ("role", "output-extent")

#else

#define GEGL_OP_COMPOSER
#define GEGL_OP_NAME     perceptual_distance
#define GEGL_OP_C_SOURCE perceptual-distance.c

#include "gegl-op.h"
#include "perceptual-blocks.h"

static void (*chant_get_property) (GObject *, guint, GValue *, GParamSpec *);

static void
prepare (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);

  perceptual_blocks_prepare (operation, &PERCEPTUAL_CHOICE (o), -1, FALSE, "Y float");
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

  if (!strcmp (pspec->name, "distance"))
    perceptual_blocks_read (GEGL_OPERATION (object), &PERCEPTUAL_CHOICE (o), -1,
                            &o->distance, NULL, &o->status);
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
  composer_class->process = process;

  gegl_operation_class_set_keys (operation_class,
    "name",        "perceptual:distance",
    "title",       _("Perceptual Distance Map"),
    "categories",  "analysis",
    "description", _("How different two images look to a person (LPIPS): a "
                     "grayscale map the size of the input, bright where the "
                     "compared image (aux) differs visibly from the input, "
                     "and the whole distance in the \"distance\" property. "
                     "Alpha is ignored; images of different sizes are "
                     "compared where they overlap."),
    NULL);
}

#endif
