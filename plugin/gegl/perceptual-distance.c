/* perceptual:distance: the LPIPS distance between two images, as a map the
 * size of the reference and as one number.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "perceptual-enums.h"

#ifdef GEGL_PROPERTIES

#include "perceptual-model-properties.h"

property_double (distance, _("Distance"), 0.0)
  description (_("The perceptual distance, computed when the map is; NaN when "
                 "nothing could be compared"))
  ui_meta ("role", "output-extent")

#else

#define GEGL_OP_COMPOSER
#define GEGL_OP_NAME     perceptual_distance
#define GEGL_OP_C_SOURCE perceptual-distance.c

#include "gegl-op.h"
#include "perceptual-compare.h"

static void
prepare (GeglOperation *operation)
{
  perceptual_prepare (operation, "Y float");
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
  PerceptualResult r;

  /* Outside the compared region, and when nothing was compared: zero. */
  gegl_buffer_clear (output, NULL);
  perceptual_compare (gegl_operation_get_source_space (operation, "input"),
                      input, aux, &PERCEPTUAL_CHOICE (o),
                      &(PerceptualMap) { output, -1, FALSE },
                      perceptual_gegl_threads (), perceptual_progress, operation, &r);
  /* A failure part-way leaves no part of a map behind. */
  if (!r.ok)
    gegl_buffer_clear (output, NULL);
  o->distance = r.ok ? r.distance.distance : NAN;
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
