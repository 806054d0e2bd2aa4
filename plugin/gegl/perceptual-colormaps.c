#include <math.h>
#include <string.h>

#include "perceptual-colormaps.h"

gboolean
perceptual_colormap_lookup (const char *name,
                            float       t,
                            float       rgb[3])
{
  t = isnan (t) ? 0.0f : CLAMP (t, 0.0f, 1.0f);
  if (!strcmp (name, "gray"))
    {
      rgb[0] = rgb[1] = rgb[2] = t;
      return TRUE;
    }
  for (const PerceptualColormap *m = perceptual_colormaps; m->name; m++)
    if (!strcmp (m->name, name))
      {
        float x = t * (m->size - 1);
        int   i = MIN ((int) x, m->size - 2);
        float f = x - i;

        for (int c = 0; c < 3; c++)
          rgb[c] = (1 - f) * m->table[i][c] + f * m->table[i + 1][c];
        return TRUE;
      }
  return FALSE;
}

void
perceptual_colormap_paint (const float *map,
                           gsize        n,
                           const char  *colormap,
                           float        lo,
                           float        hi,
                           float        opacity,
                           float       *rgba)
{
  float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;

  for (gsize i = 0; i < n; i++, rgba += 4)
    {
      float t = (map[i] - lo) * scale;
      float o = opacity * (isnan (t) ? 0.0f : CLAMP (t, 0.0f, 1.0f));
      float a = o + rgba[3] * (1 - o);
      float heat[3];

      perceptual_colormap_lookup (colormap, t, heat);
      for (int c = 0; c < 3 && a > 0; c++)
        rgba[c] = (heat[c] * o + rgba[c] * rgba[3] * (1 - o)) / a;
      rgba[3] = a;
    }
}
