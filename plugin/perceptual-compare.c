#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "perc-compare.h"
#include "perceptual-compare.h"
#include "perceptual-models.h"

GeglRectangle
perceptual_input_extent (GeglOperation *operation)
{
  GeglRectangle *in = gegl_operation_source_get_bounding_box (operation, "input");

  if (!in || gegl_rectangle_is_infinite_plane (in))
    return (GeglRectangle) { 0, 0, 0, 0 };
  return *in;
}

static GeglRectangle
get_bounding_box (GeglOperation *operation)
{
  return perceptual_input_extent (operation);
}

/* The network sees the whole image: every output pixel needs all of both
 * inputs, and the result is computed once and cached.
 */
static GeglRectangle
get_required_for_output (GeglOperation       *operation,
                         const gchar         *input_pad,
                         const GeglRectangle *roi)
{
  GeglRectangle *r = gegl_operation_source_get_bounding_box (operation, input_pad);

  if (!r || gegl_rectangle_is_infinite_plane (r))
    return *roi;
  return *r;
}

static GeglRectangle
get_cached_region (GeglOperation       *operation,
                   const GeglRectangle *roi)
{
  GeglRectangle extent = perceptual_input_extent (operation);

  return extent.width ? extent : *roi;
}

static GeglRectangle
get_invalidated_by_change (GeglOperation       *operation,
                           const gchar         *input_pad,
                           const GeglRectangle *roi)
{
  return get_cached_region (operation, roi);
}

void
perceptual_class_init (GeglOperationClass *klass)
{
  GeglOperationComposerClass *composer = GEGL_OPERATION_COMPOSER_CLASS (klass);

  composer->aux_label = _("Compared image");
  composer->aux_description = _("The image compared with the input, which is "
                                "the reference");
  klass->get_bounding_box = get_bounding_box;
  klass->get_required_for_output = get_required_for_output;
  klass->get_cached_region = get_cached_region;
  klass->get_invalidated_by_change = get_invalidated_by_change;
  klass->threaded = FALSE;
}

void
perceptual_prepare (GeglOperation *operation,
                    const char    *output_format)
{
  const Babl *space = gegl_operation_get_source_space (operation, "input");

  gegl_operation_set_format (operation, "input",
                             babl_format_with_space ("R'G'B'A float", space));
  gegl_operation_set_format (operation, "aux",
                             babl_format_with_space ("R'G'B'A float", space));
  gegl_operation_set_format (operation, "output",
                             babl_format_with_space (output_format, space));
}

static float *
read_rgb (const Babl          *space,
          GeglBuffer          *buffer,
          const GeglRectangle *area)
{
  float      *rgb = g_try_new (float, (gsize) area->width * area->height * 3);

  if (rgb)
    gegl_buffer_get (buffer, area, 1.0,
                     babl_format_with_space ("R'G'B' float", space),
                     rgb, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  return rgb;
}

static void
fail (PerceptualResult *result,
      gboolean          warn,
      char             *status)
{
  result->ok = FALSE;
  result->status = status;
  if (warn)
    perceptual_warn_once (status);
}

void
perceptual_compare (const Babl            *space,
                    GeglBuffer            *input,
                    GeglBuffer            *aux,
                    PerceptualNetwork      network,
                    PerceptualCalibration  calibration,
                    const char            *weights,
                    PerceptualResult      *result)
{
  const GeglRectangle *in = gegl_buffer_get_extent (input);
  PercComparer        *comparer;
  GError              *error = NULL;
  float               *a, *b;
  int                  w, h;

  memset (result, 0, sizeof *result);
  if (!aux)
    {
      fail (result, FALSE, g_strdup (_("No image to compare with: connect the aux input")));
      return;
    }
  if (!gegl_rectangle_intersect (&result->area, in, gegl_buffer_get_extent (aux)))
    {
      fail (result, TRUE, g_strdup (_("The two images do not overlap: nothing to compare")));
      return;
    }
  result->model = perceptual_models_get (network, calibration, weights, &error);
  if (!result->model)
    {
      fail (result, TRUE, g_strdup_printf (_("Perceptual distance unavailable: %s"),
                                           error->message));
      g_error_free (error);
      return;
    }

  w = result->area.width;
  h = result->area.height;
  g_debug ("comparing %dx%d pixels", w, h);
  a = read_rgb (space, input, &result->area);
  b = read_rgb (space, aux, &result->area);
  comparer = perc_comparer_new (result->model);
  if (!a || !b)
    fail (result, TRUE, g_strdup_printf (_("Not enough memory to compare %dx%d pixels"), w, h));
  else if (!perc_comparer_run (comparer, (PercCalibration) calibration,
                               &(PercImage) { w, h, 3 * (gsize) w, a },
                               &(PercImage) { w, h, 3 * (gsize) w, b },
                               &result->distance, &error))
    {
      fail (result, TRUE, g_strdup_printf (_("Cannot compare the images: %s"),
                                           error->message));
      g_error_free (error);
    }
  else
    {
      result->ok = TRUE;
      if (gegl_rectangle_equal (&result->area, in) &&
          gegl_rectangle_equal (&result->area, gegl_buffer_get_extent (aux)))
        result->status = g_strdup_printf (_("Compared %dx%d pixels"), w, h);
      else
        result->status = g_strdup_printf (_("The images differ in size or position: "
                                            "compared their overlap, %dx%d pixels at (%d, %d)"),
                                          w, h, result->area.x, result->area.y);
    }
  perc_comparer_free (comparer);
  g_free (a);
  g_free (b);
}

float *
perceptual_result_spatial (const PerceptualResult *result)
{
  float *map = g_new (float, (gsize) result->area.width * result->area.height);

  perc_distance_spatial (&result->distance, result->area.width,
                         result->area.height, map);
  return map;
}

void
perceptual_result_finish (PerceptualResult *result,
                          char            **status)
{
  g_free (*status);
  *status = g_steal_pointer (&result->status);
  perceptual_result_clear (result);
}

void
perceptual_result_clear (PerceptualResult *result)
{
  perc_distance_clear (&result->distance);
  g_free (result->status);
  memset (result, 0, sizeof *result);
}
