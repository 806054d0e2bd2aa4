/* Colour maps for showing distances: tables of sRGB-encoded colours. */
#ifndef PERCEPTUAL_COLORMAPS_H
#define PERCEPTUAL_COLORMAPS_H

#include <glib.h>

G_BEGIN_DECLS

/* The heatmaps' fixed scale: distance map values from 0 to this span
 * the colour map, the same in every image.  On the shipped samples an
 * invisible change stays under 0.05 and an obvious one reaches 0.5 (the
 * README's "Reading a heatmap").
 */
#define PERCEPTUAL_SCALE_MAX 0.5

typedef struct
{
  const char   *name;
  const float (*table)[3];
  int           size;
} PerceptualColormap;

/* Generated from the tables in data/colormaps; ends with a NULL name. */
extern const PerceptualColormap perceptual_colormaps[];

/* The colour for t in [0, 1] (clamped) of map `name`, interpolating
 * linearly between table entries; "gray" is (t, t, t).  FALSE for an
 * unknown name.
 */
gboolean perceptual_colormap_lookup (const char *name,
                                     float       t,
                                     float       rgb[3]);

/* Paints n distances as colours of map `colormap` over `rgba` (the
 * reference, R'G'B'A float, not premultiplied): Porter-Duff "over" with
 * the colours' alpha = opacity t, growing with the distance, so that
 * where nothing changed the reference shows.  Distances lo .. hi span
 * the colour map (t from 0 to 1, clamped).
 */
void     perceptual_colormap_paint  (const float *map,
                                     gsize        n,
                                     const char  *colormap,
                                     float        lo,
                                     float        hi,
                                     float        opacity,
                                     float       *rgba);

G_END_DECLS

#endif
