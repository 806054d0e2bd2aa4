/* Reducing two images' features to LPIPS distances: per-layer difference
 * maps, per-layer terms, the scalar and the spatial map.
 */
#ifndef PERC_DISTANCE_H
#define PERC_DISTANCE_H

#include <glib.h>

#include "perc-features.h"

G_BEGIN_DECLS

typedef struct
{
  int        n_layers;
  double     distance;                    /* sum of the terms */
  double     terms[PERC_MAX_TAPS];        /* mean of each layer's map */
  PercShape  shapes[PERC_MAX_TAPS];       /* c = 1, layer resolution */
  float     *maps[PERC_MAX_TAPS];         /* D_l, h x w each, owned */
} PercDistance;

/* Fills `out` (whose maps are reused or replaced; zero-initialise it
 * before the first use).  Both feature sets must come from one model.
 */
gboolean perc_distance_compute  (const PercModel    *model,
                                 PercCalibration     calibration,
                                 const PercFeatures *f0,
                                 const PercFeatures *f1,
                                 PercDistance       *out,
                                 GError            **error);
void     perc_distance_clear    (PercDistance       *distance);

/* One layer's map resampled to width x height (bilinear, as LPIPS). */
void     perc_distance_layer_map (const PercDistance *distance,
                                  int                 layer,
                                  int                 width,
                                  int                 height,
                                  float              *map);

/* LPIPS's spatial map: every layer's map resampled to width x height and
 * summed.
 */
void     perc_distance_spatial  (const PercDistance *distance,
                                 int                 width,
                                 int                 height,
                                 float              *map);

G_END_DECLS

#endif
