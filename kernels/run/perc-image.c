#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "perc-error.h"
#include "run/perc-image.h"

/* LPIPS's ScalingLayer: ImageNet mean and std on [-1, 1] inputs. */
static const float shift[3] = { -0.030f, -0.088f, -0.188f };
static const float scale[3] = { 0.458f, 0.448f, 0.450f };

/* Whether n floats are all finite: their exponent bits tested together,
 * so that the loop has no exit and vectorises.
 */
static gboolean
all_finite (const float *v,
            int          n)
{
  guint32 bad = 0;

  for (int x = 0; x < n; x++)
    {
      guint32 bits;

      memcpy (&bits, v + x, sizeof bits);
      bad |= (bits & 0x7f800000u) == 0x7f800000u;
    }
  return !bad;
}

gboolean
perc_image_check (const PercImage *image,
                  GError         **error)
{
  for (int y = 0; y < image->height; y++)
    {
      const float *row = image->rgb + y * image->rowstride;

      if (all_finite (row, 3 * image->width))
        continue;
      for (int x = 0; x < 3 * image->width; x++)
        if (!isfinite (row[x]))
          {
            g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                         isnan (row[x])
                         ? _("the image has a NaN value at pixel (%d, %d)")
                         : _("the image has an infinite value at pixel (%d, %d)"),
                         x / 3, y);
            return FALSE;
          }
    }
  return TRUE;
}

void
perc_image_to_input (const PercImage *image,
                     gboolean         scaling,
                     float           *dst)
{
  const gsize n = (gsize) image->width * image->height;

  for (int c = 0; c < 3; c++)
    {
      float *plane = dst + c * n;
      /* (2 v - 1 - shift) / scale, as one multiply-add. */
      float  a = scaling ? 2.0f / scale[c] : 2.0f;
      float  b = scaling ? (-1.0f - shift[c]) / scale[c] : -1.0f;

      for (int y = 0; y < image->height; y++)
        {
          const float *row = image->rgb + y * image->rowstride + c;
          float       *out = plane + (gsize) y * image->width;

          for (int x = 0; x < image->width; x++)
            out[x] = a * row[3 * x] + b;
        }
    }
}
