/* Whole-image comparison of two images with one model: the extractor and
 * feature buffers are kept between calls.
 */
#ifndef PERC_COMPARE_H
#define PERC_COMPARE_H

#include <glib.h>

#include "distance/perc-distance.h"

G_BEGIN_DECLS

typedef struct
{
  const PercModel *model;       /* not owned */
  PercExtractor   *extractor;
  PercFeatures    *features[2];
} PercComparer;

PercComparer *perc_comparer_new  (const PercModel *model);
void          perc_comparer_free (PercComparer    *comparer);

/* The distance between `reference` and `image`, which must have the same
 * size.  Fills `out` as perc_distance_compute ().
 */
gboolean      perc_comparer_run  (PercComparer     *comparer,
                                  const PercMetric *metric,
                                  const PercImage  *reference,
                                  const PercImage  *image,
                                  PercDistance     *out,
                                  GError          **error);

G_END_DECLS

#endif
