#include <glib/gi18n-lib.h>

#include "distance/perc-compare.h"
#include "perc-error.h"

PercComparer *
perc_comparer_new (const PercModel *model)
{
  PercComparer *c = g_new0 (PercComparer, 1);

  c->model = model;
  c->extractor = perc_extractor_new (model);
  c->features[0] = perc_features_new ();
  c->features[1] = perc_features_new ();
  return c;
}

void
perc_comparer_free (PercComparer *c)
{
  if (!c)
    return;
  perc_extractor_free (c->extractor);
  perc_features_free (c->features[0]);
  perc_features_free (c->features[1]);
  g_free (c);
}

gboolean
perc_comparer_run (PercComparer     *c,
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
                   _("the images differ in size (%dx%d and %dx%d)"),
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
