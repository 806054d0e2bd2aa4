/* Bilinear resampling of a single-channel map, as PyTorch's
 * interpolate (mode="bilinear", align_corners=False) without antialiasing.
 */
#ifndef PERC_RESIZE_H
#define PERC_RESIZE_H

#include <glib.h>

G_BEGIN_DECLS

/* Where one destination position samples the source along one axis. */
typedef struct
{
  int   i0, i1;
  float l0, l1;
} PercResizeTap;

/* The taps of destination positions 0 .. dst - 1 for a source of `src`
 * positions; free with g_free ().
 */
PercResizeTap *perc_resize_taps     (int                  src,
                                     int                  dst);

/* Destination pixels [x0, x0 + w) x [y0, y0 + h) into dst (w x h), from a
 * window of the source whose top-left source position is (sx, sy), rows
 * `stride` floats apart; the window must hold every position the taps
 * name.  With accumulate, added to dst.
 */
void           perc_resize_region   (const float         *window,
                                     int                  sx,
                                     int                  sy,
                                     gsize                stride,
                                     const PercResizeTap *xs,
                                     const PercResizeTap *ys,
                                     int                  x0,
                                     int                  y0,
                                     int                  w,
                                     int                  h,
                                     float               *dst,
                                     gboolean             accumulate);

G_END_DECLS

#endif
