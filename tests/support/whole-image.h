/* Whole-image comparisons, as the tests check the core's whole-image and
 * tiled paths against them: both images through the extractor, then
 * perc_distance_compute (); and the spatial map LPIPS defines, every
 * selected layer's map resampled to the image and summed.  Test code: the
 * front ends compare through perc-tiles.h.
 */
#ifndef TEST_WHOLE_IMAGE_H
#define TEST_WHOLE_IMAGE_H

#include <glib.h>

#include "distance/perc-distance.h"

/* One model's extractor and feature buffers, kept between calls. */
typedef struct
{
  const PercModel *model;       /* not owned */
  PercExtractor   *extractor;
  PercFeatures    *features[2];
} Comparer;

Comparer *comparer_new     (const PercModel    *model);
void      comparer_free    (Comparer           *comparer);

/* The distance between `reference` and `image`, which must have the same
 * size.  Fills `out` as perc_distance_compute ().
 */
gboolean  comparer_run     (Comparer           *comparer,
                            const PercMetric   *metric,
                            const PercImage    *reference,
                            const PercImage    *image,
                            PercDistance       *out,
                            GError            **error);

/* dst (dst_w x dst_h) = src (src_w x src_h) resampled bilinearly, as
 * PyTorch's interpolate (align_corners=False), by the core's
 * perc_resize_taps () and perc_resize_region (); with accumulate, added.
 */
void      resize_bilinear  (const float        *src,
                            int                 src_w,
                            int                 src_h,
                            float              *dst,
                            int                 dst_w,
                            int                 dst_h,
                            gboolean            accumulate);

/* One layer's map resampled to width x height; spatial distances only. */
void      layer_map        (const PercDistance *distance,
                            int                 layer,
                            int                 width,
                            int                 height,
                            float              *map);

/* LPIPS's spatial map: every selected layer's map resampled to width x
 * height and summed.
 */
void      spatial_map      (const PercDistance *distance,
                            int                 width,
                            int                 height,
                            float              *map);

/* The mean of n floats, summed in double. */
double    mean_of          (const float        *values,
                            gsize               n);

#endif
