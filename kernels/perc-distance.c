#include <string.h>

#include "perc-difference.h"
#include "perc-distance.h"
#include "perc-error.h"
#include "perc-resize.h"

gboolean
perc_distance_compute (const PercModel    *model,
                       PercCalibration     calibration,
                       const PercFeatures *f0,
                       const PercFeatures *f1,
                       PercDistance       *out,
                       GError            **error)
{
  float *scratch = NULL;
  gsize  scratch_size = 0;

  if (!perc_model_supports (model, calibration, error))
    return FALSE;
  if (f0->n_taps != model->net->n_taps || f1->n_taps != f0->n_taps)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                   "the features do not come from this model");
      return FALSE;
    }
  for (int l = 0; l < f0->n_taps; l++)
    if (memcmp (&f0->shapes[l], &f1->shapes[l], sizeof (PercShape)))
      {
        g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                     "the two images' features differ in size at layer %d",
                     l + 1);
        return FALSE;
      }

  out->n_layers = f0->n_taps;
  out->distance = 0.0;
  for (int l = 0; l < f0->n_taps; l++)
    {
      const PercShape *s = &f0->shapes[l];
      gsize            n = (gsize) s->h * s->w;

      if (n > scratch_size)
        {
          g_free (scratch);
          scratch = g_new (float, 2 * n);
          scratch_size = n;
        }
      if (out->shapes[l].h * out->shapes[l].w != (int) n)
        {
          g_free (out->maps[l]);
          out->maps[l] = g_new (float, n);
        }
      out->shapes[l] = (PercShape) { 1, s->h, s->w };
      perc_layer_difference (f0->data[l], f1->data[l], s->c, n,
                             perc_model_lin (model, calibration, l),
                             out->maps[l], scratch);
      out->terms[l] = perc_mean (out->maps[l], n);
      out->distance += out->terms[l];
    }
  g_free (scratch);
  return TRUE;
}

void
perc_distance_clear (PercDistance *distance)
{
  for (int l = 0; l < PERC_MAX_TAPS; l++)
    g_free (distance->maps[l]);
  memset (distance, 0, sizeof *distance);
}

void
perc_distance_layer_map (const PercDistance *distance,
                         int                 layer,
                         int                 width,
                         int                 height,
                         float              *map)
{
  g_return_if_fail (layer >= 0 && layer < distance->n_layers);
  perc_resize_bilinear (distance->maps[layer], distance->shapes[layer].w,
                        distance->shapes[layer].h, map, width, height, FALSE);
}

void
perc_distance_spatial (const PercDistance *distance,
                       int                 width,
                       int                 height,
                       float              *map)
{
  for (int l = 0; l < distance->n_layers; l++)
    perc_resize_bilinear (distance->maps[l], distance->shapes[l].w,
                          distance->shapes[l].h, map, width, height, l > 0);
}
