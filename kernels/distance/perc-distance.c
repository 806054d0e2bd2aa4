#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "ops/perc-difference.h"
#include "distance/perc-distance.h"
#include "perc-error.h"
#include "distance/perc-layer-stats.h"

static const char *const kind_names[] = {
  [PERC_DISTANCE_SPATIAL] = "spatial",
  [PERC_DISTANCE_MEAN_POOL] = "mean-pool",
  [PERC_DISTANCE_STYLE] = "style",
};

const char *
perc_distance_kind_name (PercDistanceKind kind)
{
  g_return_val_if_fail (kind < G_N_ELEMENTS (kind_names), NULL);
  return kind_names[kind];
}

gboolean
perc_layers_parse (const char      *text,
                   const PercModel *model,
                   guint           *layers,
                   GError         **error)
{
  int      n = model ? model->net->n_taps : PERC_MAX_TAPS;
  char   **parts;
  gboolean ok = TRUE;

  *layers = 0;
  if (!text || !*text)
    return TRUE;
  parts = g_strsplit (text, ",", -1);
  for (char **p = parts; ok && *p; p++)
    {
      guint64 v;

      ok = g_ascii_string_to_unsigned (g_strstrip (*p), 10, 1, n, &v, NULL);
      if (ok)
        *layers |= 1u << (v - 1);
    }
  g_strfreev (parts);
  if (!ok)
    {
      *layers = 0;
      if (model)
        g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                     _("\"%s\" is not a list of layer numbers from 1 to %d for %s"),
                     text, n, model->net->name);
      else
        g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                     _("\"%s\" is not a list of layer numbers from 1 to %d"),
                     text, n);
    }
  return ok;
}

char *
perc_layers_format (guint layers)
{
  GString *s = g_string_new (NULL);

  for (int l = 0; l < PERC_MAX_TAPS; l++)
    if (layers & (1u << l))
      g_string_append_printf (s, s->len ? ",%d" : "%d", l + 1);
  return g_string_free (s, FALSE);
}

guint
perc_metric_check (const PercModel  *model,
                   const PercMetric *metric,
                   GError          **error)
{
  const PercNet *net = model->net;
  guint          all = (1u << net->n_taps) - 1;
  guint          layers = metric->layers ? metric->layers : net->default_layers;

  if (!perc_model_supports (model, metric->calibration, error))
    return 0;
  if (metric->kind != PERC_DISTANCE_SPATIAL &&
      metric->calibration != PERC_CALIBRATION_UNWEIGHTED)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                   /* TRANSLATORS: a distance function, mean-pool or style. */
                   _("the %s distance has no calibrated weights: use the "
                     "unweighted calibration"), perc_distance_kind_name (metric->kind));
      return 0;
    }
  if (layers & ~all)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                   _("the %s network has layers 1 to %d"), net->name, net->n_taps);
      return 0;
    }
  return layers;
}

gboolean
perc_distance_total (PercDistance *out,
                     GError      **error)
{
  out->distance = 0.0;
  for (int l = 0; l < out->n_layers; l++)
    {
      if (!isfinite (out->terms[l]))
        {
          out->distance = NAN;
          g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                       _("the distance is not finite (layer %d): the network "
                         "overflowed; pixel values far outside 0 to 1, or a "
                         "model's weights, can make it"), l + 1);
          return FALSE;
        }
      if (out->layers & (1u << l))
        out->distance += out->terms[l];
    }
  return TRUE;
}

gboolean
perc_distance_compute (const PercModel    *model,
                       const PercMetric   *metric,
                       const PercFeatures *f0,
                       const PercFeatures *f1,
                       PercDistance       *out,
                       GError            **error)
{
  guint      layers = perc_metric_check (model, metric, error);
  float     *scratch = NULL;
  gsize      scratch_size = 0;

  if (!layers)
    return FALSE;
  if (f0->n_taps != model->net->n_taps || f1->n_taps != f0->n_taps)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                   _("the features do not come from this model"));
      return FALSE;
    }
  for (int l = 0; l < f0->n_taps; l++)
    if (memcmp (&f0->shapes[l], &f1->shapes[l], sizeof (PercShape)))
      {
        g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                     _("the two images' features differ in size at layer %d"),
                     l + 1);
        return FALSE;
      }

  out->n_layers = f0->n_taps;
  out->kind = metric->kind;
  out->layers = layers;
  for (int l = 0; l < f0->n_taps; l++)
    {
      const PercShape *s = &f0->shapes[l];
      gsize            n = (gsize) s->h * s->w;
      float           *diff = NULL;

      if (metric->kind == PERC_DISTANCE_SPATIAL)
        {
          if (n > scratch_size)
            {
              g_free (scratch);
              scratch = g_new (float, 2 * n);
              scratch_size = n;
            }
          if (!out->maps[l] || out->shapes[l].h * out->shapes[l].w != (int) n)
            {
              g_free (out->maps[l]);
              out->maps[l] = g_new (float, n);
            }
          diff = out->maps[l];
          perc_inverse_norms (f0->data[l], s->c, n, scratch);
          perc_inverse_norms (f1->data[l], s->c, n, scratch + n);
        }
      else
        g_clear_pointer (&out->maps[l], g_free);
      out->shapes[l] = (PercShape) { 1, s->h, s->w };
      perc_layer_sum_reset (&out->sum, metric->kind, s->c);
      perc_layer_sum_add (&out->sum, model, metric, l, s, f0->data[l], scratch, f1->data[l],
                          scratch + n, 0, 0, s->w, s->h, diff);
      out->terms[l] = perc_layer_sum_term (&out->sum, n);
    }
  g_free (scratch);
  return perc_distance_total (out, error);
}

void
perc_layer_sum_reset (PercLayerSum    *sum,
                      PercDistanceKind kind,
                      int              channels)
{
  sum->kind = kind;
  sum->sum = 0.0;
  sum->positions = 0;
  if (kind == PERC_DISTANCE_SPATIAL)
    return;
  /* Kept between resets: a Gram matrix can be megabytes. */
  if (!sum->stats)
    sum->stats = g_new0 (PercLayerStats, 1);
  perc_layer_stats_reset (sum->stats, kind == PERC_DISTANCE_STYLE ? PERC_LAYER_STATS_STYLE
                                                                  : PERC_LAYER_STATS_MEAN,
                          channels);
}

void
perc_layer_sum_clear (PercLayerSum *sum)
{
  if (sum->stats)
    perc_layer_stats_clear (sum->stats);
  g_free (sum->stats);
  memset (sum, 0, sizeof *sum);
}

void
perc_layer_sum_add (PercLayerSum     *sum,
                    const PercModel  *model,
                    const PercMetric *metric,
                    int               l,
                    const PercShape  *s,
                    const float      *f0,
                    const float      *inv0,
                    const float      *f1,
                    const float      *inv1,
                    int               x0,
                    int               y0,
                    int               x1,
                    int               y1,
                    float            *diff)
{
  gsize n = (gsize) s->h * s->w;

  if (sum->kind != PERC_DISTANCE_SPATIAL)
    {
      if (x0 < x1 && y0 < y1)
        {
          perc_layer_stats_add (sum->stats, 0, f0, s->w, s->h, x0, y0, x1, y1);
          perc_layer_stats_add (sum->stats, 1, f1, s->w, s->h, x0, y0, x1, y1);
        }
      return;
    }
  /* The whole map, even where no position is added: a tile's resampled
   * map reads past the positions it owns.
   */
  perc_layer_difference (f0, inv0, f1, inv1, s->c, n,
                         perc_model_lin (model, metric->calibration, l), diff);
  if (x0 >= x1 || y0 >= y1)
    return;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      sum->sum += diff[(gsize) y * s->w + x];
  sum->positions += (gsize) (x1 - x0) * (y1 - y0);
}

double
perc_layer_sum_term (const PercLayerSum *sum,
                     gsize               grid_positions)
{
  if (sum->kind != PERC_DISTANCE_SPATIAL)
    return perc_layer_stats_term (sum->stats);
  return sum->sum / (double) grid_positions;
}

void
perc_distance_clear (PercDistance *distance)
{
  for (int l = 0; l < PERC_MAX_TAPS; l++)
    g_free (distance->maps[l]);
  perc_layer_sum_clear (&distance->sum);
  memset (distance, 0, sizeof *distance);
}
