#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include <string.h>

#include "run/perc-tiles.h"
#include "perceptual-colormaps.h"
#include "perceptual-compare.h"
#include "perceptual-models.h"

int
perceptual_gegl_threads (void)
{
  int threads = 1;

  g_object_get (gegl_config (), "threads", &threads, NULL);
  return MAX (threads, 1);
}

GeglRectangle
perceptual_input_extent (GeglOperation *operation)
{
  GeglRectangle *in = gegl_operation_source_get_bounding_box (operation, "input");

  if (!in || gegl_rectangle_is_infinite_plane (in))
    return (GeglRectangle) { 0, 0, 0, 0 };
  return *in;
}

gboolean
perceptual_io_read (int             which,
                    const PercRect *rect,
                    float          *rgb,
                    gpointer        data,
                    GError        **error)
{
  PerceptualIo *io = data;

  gegl_buffer_get (io->buffers[which],
                   GEGL_RECTANGLE (io->area.x + rect->x, io->area.y + rect->y,
                                   rect->width, rect->height),
                   1.0, io->rgb, rgb, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  return TRUE;
}

void
perceptual_io_write (const PercRect *rect,
                     const float    *map,
                     gpointer        data)
{
  PerceptualIo *io = data;

  gegl_buffer_set (io->map,
                   GEGL_RECTANGLE (io->area.x + rect->x, io->area.y + rect->y,
                                   rect->width, rect->height),
                   0, babl_format_with_space ("Y float", babl_format_get_space (io->rgb)),
                   map, GEGL_AUTO_ROWSTRIDE);
}

/* GEGL_PERCEPTUAL_MEMORY_BUDGET: whole MiB, from 1 to 2^20 (1 TiB). */
gboolean
perceptual_memory_budget (gsize   *budget,
               char   **status)
{
  const char *env = g_getenv ("GEGL_PERCEPTUAL_MEMORY_BUDGET");
  guint64     mib;

  *budget = PERC_DEFAULT_BUDGET;
  if (!env)
    return TRUE;
  if (!g_ascii_string_to_unsigned (env, 10, 1, (guint64) 1 << 20, &mib, NULL))
    {
      *status = g_strdup_printf (_("GEGL_PERCEPTUAL_MEMORY_BUDGET is “%s”: give a "
                                   "whole number of MiB from 1 to 1048576"), env);
      return FALSE;
    }
  *budget = (gsize) mib << 20;
  return TRUE;
}

static void
fail (PerceptualResult *result,
      gboolean          warn,
      char             *status)
{
  result->ok = FALSE;
  result->status = status;
  if (warn)
    perceptual_warn_once (status);
}

void
perceptual_workspace_clear (PerceptualWorkspace *workspace)
{
  perc_tiler_free (workspace->tiler);
  perceptual_models_release (workspace->model);
  memset (workspace, 0, sizeof *workspace);
}

/* The workspace's tiler for `model`: a new one, holding the model, when
 * the last was for another.
 */
static PercTiler *
workspace_for (PerceptualWorkspace *workspace,
               const PercModel     *model)
{
  if (workspace->model != model)
    {
      perceptual_workspace_clear (workspace);
      workspace->model = perceptual_models_hold (model);
      workspace->tiler = perc_tiler_new (model);
    }
  return workspace->tiler;
}

void
perceptual_compare (const Babl            *space,
                    GeglBuffer            *input,
                    GeglBuffer            *aux,
                    const PerceptualChoice *choice,
                    const PerceptualMap   *map,
                    int                    threads,
                    PerceptualWorkspace   *workspace,
                    PercProgress           progress,
                    gpointer               progress_data,
                    PerceptualResult      *result)
{
  const GeglRectangle *in = gegl_buffer_get_extent (input);
  GError              *error = NULL;
  PercTileOptions      options = { 0 };
  PerceptualIo         io;
  PerceptualWorkspace  own = { 0 };   /* when the caller keeps none */
  int                  w, h;

  memset (result, 0, sizeof *result);
  if (!aux)
    {
      fail (result, FALSE, g_strdup (_("No image to compare with: connect the aux input")));
      return;
    }
  if (!gegl_rectangle_intersect (&result->area, in, gegl_buffer_get_extent (aux)))
    {
      fail (result, TRUE, g_strdup (_("The two images do not overlap: nothing to compare")));
      return;
    }
  result->model = perceptual_models_get (choice, &result->metric, &error);
  if (!result->model)
    {
      fail (result, TRUE, g_strdup_printf (_("Perceptual distance unavailable: %s"),
                                           error->message));
      g_error_free (error);
      return;
    }

  if (!perceptual_memory_budget (&options.budget, &result->status))
    {
      fail (result, TRUE, g_steal_pointer (&result->status));
      return;
    }
  w = result->area.width;
  h = result->area.height;
  io = (PerceptualIo) { babl_format_with_space ("R'G'B' float", space), { input, aux },
                        map ? map->buffer : NULL, result->area };
  /* Only the spatial distance has a map. */
  result->has_map = map && result->metric.kind == PERC_DISTANCE_SPATIAL;
  options.threads = perc_tiled_threads (result->model, w, h, options.budget, threads);
  options.n_threads = threads;
  if (options.threads == PERC_THREADS_SPLIT)
    g_debug ("comparing %dx%d pixels, each op split between %d threads", w, h,
             perc_threads_count (options.threads, threads));
  else
    g_debug ("comparing %dx%d pixels, %s", w, h, options.threads == PERC_THREADS_ONE ?
             "one thread" : "the images in two threads");
  options.layer = map ? map->layer : -1;
  options.layer_grid = map && map->layer_grid;
  options.write = result->has_map ? perceptual_io_write : NULL;
  options.write_data = &io;
  options.progress = progress;
  options.progress_data = progress_data;
  if (!perc_tiler_run (workspace_for (workspace ? workspace : &own, result->model),
                       &result->metric, w, h, perceptual_io_read, &io, &options,
                       &result->distance, &error))
    {
      fail (result, TRUE, g_strdup_printf (_("Cannot compare the images: %s"),
                                           error->message));
      g_error_free (error);
    }
  else
    {
      char *what = perceptual_compared_status (&result->area, in,
                                               gegl_buffer_get_extent (aux));

      result->ok = TRUE;
      if (map && !result->has_map)
        result->status = g_strdup_printf (_("%s. The %s distance compares whole "
                                            "layers: it has no map, only the "
                                            "distance"), what,
                                          perc_distance_kind_name (result->metric.kind));
      else
        result->status = g_strdup (what);
      g_free (what);
    }
  perceptual_workspace_clear (&own);
}

char *
perceptual_compared_status (const GeglRectangle *area,
                            const GeglRectangle *input,
                            const GeglRectangle *aux)
{
  if (gegl_rectangle_equal (area, input) && gegl_rectangle_equal (area, aux))
    return g_strdup_printf (_("Compared %dx%d pixels"), area->width, area->height);
  return g_strdup_printf (_("The images differ in size or position: "
                            "compared their overlap, %dx%d pixels at (%d, %d)"),
                          area->width, area->height, area->x, area->y);
}

gboolean
perceptual_progress (double   done,
                     gpointer operation)
{
  gegl_operation_progress (operation, done, "");
  return TRUE;
}

double
perceptual_paint_heatmap (GeglBuffer          *reference,
                          GeglBuffer          *map,
                          const GeglRectangle *area,
                          const char          *colormap,
                          gboolean             auto_range,
                          double               range_min,
                          double               range_max,
                          double               opacity,
                          GeglBuffer          *output,
                          const Babl          *format)
{
  const Babl         *y_float = babl_format_with_space ("Y float", babl_format_get_space (format));
  GeglBufferIterator *it;

  if (auto_range)
    {
      range_min = range_max = 0;
      it = gegl_buffer_iterator_new (map, area, 0, y_float, GEGL_ACCESS_READ,
                                     GEGL_ABYSS_NONE, 1);
      while (gegl_buffer_iterator_next (it))
        for (int i = 0; i < it->length; i++)
          range_max = MAX (range_max, ((float *) it->items[0].data)[i]);
    }
  it = gegl_buffer_iterator_new (output, area, 0, format, GEGL_ACCESS_WRITE,
                                 GEGL_ABYSS_NONE, 3);
  gegl_buffer_iterator_add (it, reference, area, 0, format, GEGL_ACCESS_READ, GEGL_ABYSS_NONE);
  gegl_buffer_iterator_add (it, map, area, 0, y_float, GEGL_ACCESS_READ, GEGL_ABYSS_NONE);
  while (gegl_buffer_iterator_next (it))
    {
      float *out = it->items[0].data;

      memcpy (out, it->items[1].data, (gsize) it->length * 4 * sizeof (float));
      perceptual_colormap_paint (it->items[2].data, it->length, colormap,
                                 range_min, range_max, opacity, out);
    }
  return range_max;
}

void
perceptual_result_finish (PerceptualResult *result,
                          char            **status)
{
  g_free (*status);
  *status = g_steal_pointer (&result->status);
  perceptual_result_clear (result);
}

void
perceptual_result_clear (PerceptualResult *result)
{
  perceptual_models_release (result->model);
  perc_distance_clear (&result->distance);
  g_free (result->status);
  memset (result, 0, sizeof *result);
}
