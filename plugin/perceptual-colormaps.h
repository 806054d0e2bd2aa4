/* Colour maps for showing distances: tables of sRGB-encoded colours. */
#ifndef PERCEPTUAL_COLORMAPS_H
#define PERCEPTUAL_COLORMAPS_H

#include <glib.h>

G_BEGIN_DECLS

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

G_END_DECLS

#endif
