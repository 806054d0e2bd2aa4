/* A benchmark, not a test: a heatmap rendered the way GIMP's preview
 * renders a filter, in small regions in display order, against the
 * command line's whole-image computation of the same pair, in rounds.
 *
 *   GEGL_PATH=build/plugin/gegl build/tests/bench-preview [--rounds N]
 *       [--region PIXELS] MODEL [WIDTH HEIGHT]
 *
 * Prints per round: the whole-image time; the preview's time to its first
 * region, its longest single region, its total and total / whole; the
 * time to redraw every region after a colour-map change, and how many
 * blocks the network computed for that redraw (from the ops' debug log:
 * it should be none).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gegl.h>

#include "gegl/perceptual-compare.h"
#include "gegl/perceptual-connect.h"

static int blocks;      /* computed by the map ops, from their debug log */

static void
log_handler (const char    *domain,
             GLogLevelFlags level,
             const char    *message,
             gpointer       data)
{
  if (g_str_has_prefix (message, "comparing ") && strstr (message, " block"))
    blocks += atoi (message + strlen ("comparing "));
  else if (!(level & G_LOG_LEVEL_DEBUG))
    g_printerr ("%s\n", message);
}

/* A smooth scene, and the same with local edits. */
static GeglBuffer *
scene (int w, int h, gboolean edited)
{
  GeglBuffer *buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h),
                                        babl_format ("R'G'B'A float"));
  float      *row = g_new (float, (gsize) w * 4);

  for (int y = 0; y < h; y++)
    {
      for (int x = 0; x < w; x++)
        for (int c = 0; c < 4; c++)
          {
            float v = 0.5f + 0.3f * sinf (x * 0.013f + c) * cosf (y * 0.021f - c) +
                      0.1f * sinf ((x ^ y) * 0.7f);

            if (edited && (x / 200 + y / 150) % 7 == 0)
              v += 0.1f * sinf (x * 0.9f + y * 1.3f);
            row[4 * x + c] = c == 3 ? 1.0f : CLAMP (v, 0.0f, 1.0f);
          }
      gegl_buffer_set (buffer, GEGL_RECTANGLE (0, y, w, 1), 0, babl_format ("R'G'B'A float"),
                       row, GEGL_AUTO_ROWSTRIDE);
    }
  g_free (row);
  return buffer;
}

/* Every region of `side` pixels, row by row; the first and longest call. */
static double
preview (GeglNode *op,
         int       w,
         int       h,
         int       side,
         double   *first,
         double   *longest)
{
  float  *pixels = g_new (float, (gsize) side * side * 4);
  gint64  start = g_get_monotonic_time ();

  *longest = 0;
  for (int y = 0; y < h; y += side)
    for (int x = 0; x < w; x += side)
      {
        GeglRectangle r = { x, y, MIN (side, w - x), MIN (side, h - y) };
        gint64        t = g_get_monotonic_time ();
        double        s;

        gegl_node_blit (op, 1.0, &r, babl_format ("R'G'B'A u8"), pixels,
                        GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
        s = (g_get_monotonic_time () - t) / 1e6;
        if (!x && !y)
          *first = (g_get_monotonic_time () - start) / 1e6;
        *longest = MAX (*longest, s);
      }
  g_free (pixels);
  return (g_get_monotonic_time () - start) / 1e6;
}

int
main (int argc, char **argv)
{
  const char *model = NULL;
  int         w = 3000, h = 2000, side = 256, rounds = 3, sizes = 0;

  gegl_init (&argc, &argv);
  g_log_set_handler ("perceptual", G_LOG_LEVEL_MASK, log_handler, NULL);
  for (int i = 1; i < argc; i++)
    if (!strcmp (argv[i], "--rounds") && i + 1 < argc)
      rounds = atoi (argv[++i]);
    else if (!strcmp (argv[i], "--region") && i + 1 < argc)
      side = atoi (argv[++i]);
    else if (g_ascii_isdigit (argv[i][0]) && sizes < 2)
      *(sizes++ ? &h : &w) = atoi (argv[i]);
    else
      model = argv[i];
  if (!model || rounds < 1 || side < 1 || w < 64 || h < 64)
    {
      g_printerr ("usage: GEGL_PATH=build/plugin/gegl bench-preview [--rounds N] "
                  "[--region PIXELS] MODEL [WIDTH HEIGHT]\n");
      return 2;
    }

  {
    GeglBuffer      *a = scene (w, h, FALSE), *b = scene (w, h, TRUE);
    PerceptualChoice choice = { PERCEPTUAL_NETWORK_SQUEEZE, PERCEPTUAL_CALIBRATION_DEFAULT,
                                model, PERCEPTUAL_DISTANCE_SPATIAL, "" };
    double           sum_ratio = 0;

    printf ("%dx%d, regions of %d, %d GEGL threads\n", w, h, side, perceptual_gegl_threads ());
    printf ("round   whole (s)   first (s)  longest (s)   total (s)  total/whole  "
              "recolour (s)  blocks\n");
    for (int r = 0; r < rounds; r++)
      {
        GeglBuffer      *map = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h), babl_format ("Y float"));
        GeglNode        *graph = gegl_node_new ();
        GeglNode        *in = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                                   "buffer", a, NULL);
        GeglNode        *au = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                                   "buffer", b, NULL);
        GeglNode        *op = gegl_node_new_child (graph, "operation", "perceptual:heatmap",
                                                   "weights", model, NULL);
        PerceptualResult result;
        double           whole, first, longest, total, recolour, unused;
        gint64           t = g_get_monotonic_time ();
        int              recoloured;

        /* The command line's path: the whole image, tile by tile. */
        perceptual_compare (NULL, a, b, &choice, &(PerceptualMap) { map, -1, FALSE },
                            perceptual_gegl_threads (), NULL, NULL, NULL, &result);
        whole = (g_get_monotonic_time () - t) / 1e6;
        if (!result.ok)
          {
            g_printerr ("bench-preview: %s\n", result.status);
            return 1;
          }
        perceptual_result_clear (&result);
        g_object_unref (map);

        perceptual_connect (in, op, "input");
        perceptual_connect (au, op, "aux");
        total = preview (op, w, h, side, &first, &longest);
        blocks = 0;
        gegl_node_set (op, "colormap", PERCEPTUAL_COLORMAP_VIRIDIS, NULL);
        recolour = preview (op, w, h, side, &unused, &unused);
        recoloured = blocks;
        printf ("%5d %11.3f %11.3f %12.3f %11.3f %12.2f %13.3f %7d\n", r + 1, whole, first,
                  longest, total, total / whole, recolour, recoloured);
        sum_ratio += total / whole;
        g_object_unref (graph);
      }
    printf ("mean total/whole %.2f\n", sum_ratio / rounds);
    g_object_unref (a);
    g_object_unref (b);
  }
  gegl_exit ();
  return 0;
}
