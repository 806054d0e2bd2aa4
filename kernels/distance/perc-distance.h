/* Reducing two images' features to distances: per-layer terms, the
 * scalar, and for LPIPS's spatial distance the per-layer difference maps
 * and the spatial map.
 */
#ifndef PERC_DISTANCE_H
#define PERC_DISTANCE_H

#include <glib.h>

#include "run/perc-features.h"

G_BEGIN_DECLS

typedef enum
{
  PERC_DISTANCE_SPATIAL,     /* LPIPS: per-position differences, averaged */
  PERC_DISTANCE_MEAN_POOL,   /* see perc-layer-stats.h */
  PERC_DISTANCE_STYLE
} PercDistanceKind;

/* What to compute: a calibration, a distance function, and the layers
 * whose terms make up the distance.
 */
typedef struct
{
  PercCalibration  calibration;
  PercDistanceKind kind;
  guint            layers;    /* bit l: tap l; 0: the network's default */
} PercMetric;

const char *perc_distance_kind_name      (PercDistanceKind  kind);

/* Parses a list of 1-based layer numbers ("3", "2,3,4"; "" or NULL: the
 * default) into a mask; the model's network bounds the numbers when
 * `model` is given.
 */
gboolean    perc_layers_parse            (const char       *text,
                                          const PercModel  *model,
                                          guint            *layers,
                                          GError          **error);
/* "1,2,3,4", for people. */
char       *perc_layers_format           (guint             layers);

/* The layers `metric` selects for `model` (resolving the default), or 0
 * with an error if the model cannot compute it: a calibration it lacks,
 * lin weights with a pooled distance, layers it does not have.
 */
guint       perc_metric_check            (const PercModel  *model,
                                          const PercMetric *metric,
                                          GError          **error);

/* One layer's term, accumulated region by region of its grid: the sum of
 * its difference map over the positions added (spatial), or both images'
 * statistics (mean-pool, style).  The whole-image and the tiled paths
 * reduce through it.
 */
typedef struct
{
  PercDistanceKind        kind;
  double                  sum;
  gsize                   positions;
  struct _PercLayerStats *stats;    /* mean-pool, style; kept between resets */
} PercLayerSum;

void   perc_layer_sum_reset (PercLayerSum       *sum,
                             PercDistanceKind    kind,
                             int                 channels);
void   perc_layer_sum_clear (PercLayerSum       *sum);

/* Adds the positions [x0, x1) x [y0, y1) (possibly none) of layer l's
 * features f0, f1 (s->c x s->h x s->w).  For the spatial distance, `diff`
 * (s->h x s->w floats) receives the layer's whole difference map, from
 * inv0 and inv1, the features' perc_inverse_norms () (perc-difference.h;
 * unused by the other kinds).
 */
void   perc_layer_sum_add   (PercLayerSum       *sum,
                             const PercModel    *model,
                             const PercMetric   *metric,
                             int                 l,
                             const PercShape    *s,
                             const float        *f0,
                             const float        *inv0,
                             const float        *f1,
                             const float        *inv1,
                             int                 x0,
                             int                 y0,
                             int                 x1,
                             int                 y1,
                             float              *diff);

/* The term: the mean over the layer's grid of grid_positions for the
 * spatial distance, the statistics' term otherwise.
 */
double perc_layer_sum_term  (const PercLayerSum *sum,
                             gsize               grid_positions);

typedef struct
{
  int              n_layers;
  PercDistanceKind kind;
  guint            layers;                  /* the selected layers */
  double           distance;                /* sum of the selected terms */
  double           terms[PERC_MAX_TAPS];    /* every layer's term */
  PercShape        shapes[PERC_MAX_TAPS];   /* c = 1, layer resolution */
  float           *maps[PERC_MAX_TAPS];     /* spatial: D_l, h x w each, owned */
  PercLayerSum     sum;                     /* workspace kept between calls */
} PercDistance;

/* Fills `out` (whose maps are reused or replaced; zero-initialise it
 * before the first use).  Both feature sets must come from one model.
 */
gboolean perc_distance_compute  (const PercModel    *model,
                                 const PercMetric   *metric,
                                 const PercFeatures *f0,
                                 const PercFeatures *f1,
                                 PercDistance       *out,
                                 GError            **error);
void     perc_distance_clear    (PercDistance       *distance);

/* Sets out->distance to the sum of the selected terms.  Fails when a term
 * is not finite: images with values the network cannot take (finite but
 * huge ones overflow its sums) would otherwise give NaN as a distance.
 */
gboolean perc_distance_total    (PercDistance       *distance,
                                 GError            **error);

G_END_DECLS

#endif
