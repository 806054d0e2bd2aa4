/* Bilinear resampling of a single-channel map, as PyTorch's
 * interpolate (mode="bilinear", align_corners=False) without antialiasing.
 */
#ifndef PERC_RESIZE_H
#define PERC_RESIZE_H

#include <glib.h>

G_BEGIN_DECLS

/* dst (dst_w x dst_h) = resized src; with accumulate, added to dst. */
void perc_resize_bilinear (const float *src,
                           int          src_w,
                           int          src_h,
                           float       *dst,
                           int          dst_w,
                           int          dst_h,
                           gboolean     accumulate);

G_END_DECLS

#endif
