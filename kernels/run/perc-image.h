/* Images as the core takes them: interleaved RGB float, sRGB-encoded
 * values in [0, 1], as stored in image files.
 */
#ifndef PERC_IMAGE_H
#define PERC_IMAGE_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  int          width;
  int          height;
  gsize        rowstride;   /* floats from one row to the next, >= 3 width */
  const float *rgb;
} PercImage;

/* Fails on NaN or infinite values. */
gboolean perc_image_check    (const PercImage *image,
                              GError         **error);

/* Writes the network input: 3 planes of width x height, x = 2 v - 1, then
 * with `scaling` LPIPS v0.1's per-channel (x - shift) / scale.
 */
void     perc_image_to_input (const PercImage *image,
                              gboolean         scaling,
                              float           *dst);

G_END_DECLS

#endif
