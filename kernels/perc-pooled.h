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
#ifndef PERC_POOLED_H
#define PERC_POOLED_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  PERC_POOLED_MEAN,
  PERC_POOLED_STYLE
} PercPooledKind;

typedef struct _PercPooled
{
  PercPooledKind kind;
  int            channels;
  gsize          positions[2];
  double        *sums[2];      /* per image: C (mean) or C x C (style) */
  gsize          capacity;     /* doubles allocated in each */
  double        *scratch;      /* style: normalised vectors of a region */
  gsize          scratch_size;
} PercPooled;

/* Starts (or restarts) accumulating a layer of `channels` channels. */
void   perc_pooled_reset (PercPooled     *pooled,
                          PercPooledKind  kind,
                          int             channels);
void   perc_pooled_clear (PercPooled     *pooled);

/* Adds positions [x0, x1) x [y0, y1) of image `which` (0 or 1), whose
 * features are `channels` planes of width x height floats.
 */
void   perc_pooled_add   (PercPooled     *pooled,
                          int             which,
                          const float    *features,
                          int             width,
                          int             height,
                          int             x0,
                          int             y0,
                          int             x1,
                          int             y1);

/* The layer's term once both images have all their positions. */
double perc_pooled_term  (const PercPooled *pooled);

G_END_DECLS

#endif
