#include "ops/perc-resize.h"
#include "perc-error.h"
#include "support/whole-image.h"

Comparer *
comparer_new (const PercModel *model)
{
  Comparer *c = g_new0 (Comparer, 1);

  c->model = model;
  c->extractor = perc_extractor_new (model);
  c->features[0] = perc_features_new ();
  c->features[1] = perc_features_new ();
  return c;
}

void
comparer_free (Comparer *c)
{
  if (!c)
    return;
  perc_extractor_free (c->extractor);
  perc_features_free (c->features[0]);
  perc_features_free (c->features[1]);
  g_free (c);
}

gboolean
comparer_run (Comparer         *c,
              const PercMetric *metric,
              const PercImage  *reference,
              const PercImage  *image,
              PercDistance     *out,
              GError          **error)
{
  gboolean scaling = perc_calibration_scales (metric->calibration);

  if (reference->width != image->width || reference->height != image->height)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                   "the images differ in size (%dx%d and %dx%d)",
                   reference->width, reference->height,
                   image->width, image->height);
      return FALSE;
    }
  return perc_metric_check (c->model, metric, error) &&
         perc_extractor_run (c->extractor, reference, scaling, c->features[0], error) &&
         perc_extractor_run (c->extractor, image, scaling, c->features[1], error) &&
         perc_distance_compute (c->model, metric, c->features[0],
                                c->features[1], out, error);
}

void
resize_bilinear (const float *src,
                 int          src_w,
                 int          src_h,
                 float       *dst,
                 int          dst_w,
                 int          dst_h,
                 gboolean     accumulate)
{
  PercResizeTap *xs = perc_resize_taps (src_w, dst_w);
  PercResizeTap *ys = perc_resize_taps (src_h, dst_h);

  perc_resize_region (src, 0, 0, src_w, xs, ys, 0, 0, dst_w, dst_h, dst, accumulate);
  g_free (xs);
  g_free (ys);
}

void
layer_map (const PercDistance *distance,
           int                 layer,
           int                 width,
           int                 height,
           float              *map)
{
  g_assert_true (layer >= 0 && layer < distance->n_layers);
  g_assert_nonnull (distance->maps[layer]);
  resize_bilinear (distance->maps[layer], distance->shapes[layer].w,
                   distance->shapes[layer].h, map, width, height, FALSE);
}

void
spatial_map (const PercDistance *distance,
             int                 width,
             int                 height,
             float              *map)
{
  gboolean first = TRUE;

  for (int l = 0; l < distance->n_layers; l++)
    if (distance->layers & (1u << l))
      {
        g_assert_nonnull (distance->maps[l]);
        resize_bilinear (distance->maps[l], distance->shapes[l].w,
                         distance->shapes[l].h, map, width, height, !first);
        first = FALSE;
      }
}

double
mean_of (const float *values,
         gsize        n)
{
  double sum = 0.0;

  for (gsize i = 0; i < n; i++)
    sum += values[i];
  return n ? sum / n : 0.0;
}
