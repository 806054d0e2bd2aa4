/* The study's pooled distances of one layer, accumulated region by region:
 *
 *   mean-pool  m = the mean over positions of the raw features,
 *              term = (1/C) |m0 / (|m0| + eps) - m1 / (|m1| + eps)|^2
 *   style      G = (1/P) sum over the P positions of f^ f^T, with f^ the
 *              feature vector normalised as for LPIPS (f / (|f| + eps)),
 *              term = (1/C^2) |G0 - G1|_F^2
 *
 * Sums are kept in double, so the order of the regions does not matter.
 */
#ifndef PERC_LAYER_STATS_H
#define PERC_LAYER_STATS_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  PERC_LAYER_STATS_MEAN,
  PERC_LAYER_STATS_STYLE
} PercLayerStatsKind;

typedef struct _PercLayerStats
{
  PercLayerStatsKind kind;
  int            channels;
  gsize          positions[2];
  double        *sums[2];      /* per image: C (mean) or C x C (style) */
  gsize          capacity;     /* doubles allocated in each */
  double        *scratch;      /* style: normalised vectors of a region */
  gsize          scratch_size;
} PercLayerStats;

/* Starts (or restarts) accumulating a layer of `channels` channels. */
void   perc_layer_stats_reset (PercLayerStats     *pooled,
                          PercLayerStatsKind  kind,
                          int             channels);
void   perc_layer_stats_clear (PercLayerStats     *pooled);

/* Adds positions [x0, x1) x [y0, y1) of image `which` (0 or 1), whose
 * features are `channels` planes of width x height floats.
 */
void   perc_layer_stats_add   (PercLayerStats     *pooled,
                          int             which,
                          const float    *features,
                          int             width,
                          int             height,
                          int             x0,
                          int             y0,
                          int             x1,
                          int             y1);

/* The layer's term once both images have all their positions. */
double perc_layer_stats_term  (const PercLayerStats *pooled);

G_END_DECLS

#endif
