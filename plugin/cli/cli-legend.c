/* A heatmap's legend: under the image, a white strip with the colour bar
 * of the scale and the distances at six ticks, so that a heatmap read
 * alone says what its colours mean.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "gegl/perceptual-colormaps.h"
#include "gegl/perceptual-connect.h"
#include "cli.h"

#define MARGIN     8     /* pixels left and right of the bar */
#define BAR_TOP    6
#define BAR_HEIGHT 12
#define TEXT_TOP   (BAR_TOP + BAR_HEIGHT + 3)
#define TEXT_SIZE  12
#define HEIGHT     (TEXT_TOP + TEXT_SIZE + 6)
#define TICKS      6

GeglBuffer *
cli_add_legend (GeglBuffer *heat,
                const char *colormap,
                double      lo,
                double      hi)
{
  const GeglRectangle *e = gegl_buffer_get_extent (heat);
  const Babl          *format = gegl_buffer_get_format (heat);
  int                  w = e->width, bar = MAX (w - 2 * MARGIN, 2);
  GeglRectangle        strip = { e->x, e->y + e->height, w, HEIGHT };
  GeglBuffer          *out = gegl_buffer_new (GEGL_RECTANGLE (e->x, e->y, w, e->height + HEIGHT),
                                              format);
  float               *rgba = g_new (float, (gsize) w * HEIGHT * 4);
  GeglNode            *graph = gegl_node_new (), *last;

  gegl_buffer_copy (heat, NULL, GEGL_ABYSS_NONE, out, NULL);
  /* White, and the colour map from lo (left) to hi (right). */
  for (gsize i = 0; i < (gsize) w * HEIGHT * 4; i++)
    rgba[i] = 1.0f;
  for (int y = BAR_TOP; y < BAR_TOP + BAR_HEIGHT; y++)
    for (int x = 0; x < bar && MARGIN + x < w; x++)
      perceptual_colormap_lookup (colormap, (float) x / (bar - 1),
                                  rgba + ((gsize) y * w + MARGIN + x) * 4);
  gegl_buffer_set (out, &strip, 0, babl_format_with_space ("R'G'B'A float",
                                                          babl_format_get_space (format)),
                   rgba, GEGL_AUTO_ROWSTRIDE);
  g_free (rgba);

  /* The values, each centred on its tick (the first and last kept inside). */
  last = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", out, NULL);
  for (int k = 0; k < TICKS; k++)
    {
      char          label[32];
      GeglNode     *text, *move, *over;
      GeglRectangle box;
      int           x = MARGIN + (bar - 1) * k / (TICKS - 1);

      snprintf (label, sizeof label, "%.3g", lo + (hi - lo) * k / (TICKS - 1));
      text = gegl_node_new_child (graph, "operation", "gegl:text", "string", label,
                                  "size", (double) TEXT_SIZE, NULL);
      box = gegl_node_get_bounding_box (text);
      x = CLAMP (x - box.width / 2, 0, MAX (w - box.width, 0));
      move = gegl_node_new_child (graph, "operation", "gegl:translate",
                                  "x", (double) (e->x + x),
                                  "y", (double) (strip.y + TEXT_TOP), NULL);
      over = gegl_node_new_child (graph, "operation", "gegl:over", NULL);
      gegl_node_link (text, move);
      perceptual_connect (move, over, "aux");
      gegl_node_link (last, over);
      last = over;
    }
  {
    GeglBuffer *done = gegl_buffer_new (gegl_buffer_get_extent (out), format);

    gegl_node_blit_buffer (last, done, gegl_buffer_get_extent (out), 0, GEGL_ABYSS_NONE);
    g_object_unref (out);
    out = done;
  }
  g_object_unref (graph);
  return out;
}
