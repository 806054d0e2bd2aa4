#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "model/perc-net.h"
#include "run/perc-tiles.h"
#include "perceptual-blocks.h"
#include "perceptual-compare.h"

/* An op's blocks: what it computes, and the layer sums of the blocks
 * computed so far.
 */
typedef struct
{
  GMutex           lock;          /* sums and known: blocks finish in GEGL's threads */
  PerceptualChoice choice;        /* its strings owned */
  int              layer;
  gboolean         layer_grid;
  GeglRectangle    area;          /* input and aux overlap */
  const PercModel *model;         /* NULL: nothing to compare, see failure */
  PercMetric       metric;
  char            *failure;
  int              side, halo;    /* the block side (aligned) and halo */
  int              nx, ny;        /* blocks across and down */
  double          *sums;          /* per block, PERC_MAX_TAPS layer sums */
  guint8          *known;         /* per block */
  GeglBuffer      *written;       /* (weak) where the known blocks' maps are */
  PercDistance     whole;         /* layer_grid: the last whole computation */
  gboolean         have_whole;
} Blocks;

static void
blocks_reset (Blocks *b)
{
  perceptual_models_release (b->model);
  b->model = NULL;
  g_clear_pointer (&b->failure, g_free);
  g_clear_pointer (&b->sums, g_free);
  g_clear_pointer (&b->known, g_free);
  b->have_whole = FALSE;
}

static void
blocks_free (gpointer data)
{
  Blocks *b = data;

  g_clear_weak_pointer (&b->written);
  blocks_reset (b);
  perc_distance_clear (&b->whole);
  g_free ((char *) b->choice.weights);
  g_free ((char *) b->choice.layers);
  g_mutex_clear (&b->lock);
  g_free (b);
}

static Blocks *
blocks_get (GeglOperation *operation)
{
  return g_object_get_data (G_OBJECT (operation), "perceptual-blocks");
}

/* The overlap of input and aux; empty without aux. */
static GeglRectangle
overlap (const GeglRectangle *in,
         const GeglRectangle *aux)
{
  GeglRectangle area = { 0, 0, 0, 0 };

  if (in && aux && !gegl_rectangle_is_infinite_plane (in) &&
      !gegl_rectangle_is_infinite_plane (aux))
    gegl_rectangle_intersect (&area, in, aux);
  return area;
}

static gboolean
same_choice (const PerceptualChoice *a,
             const PerceptualChoice *b)
{
  return a->network == b->network && a->calibration == b->calibration &&
         a->function == b->function && !g_strcmp0 (a->weights ? a->weights : "",
                                                   b->weights ? b->weights : "") &&
         !g_strcmp0 (a->layers ? a->layers : "", b->layers ? b->layers : "");
}

/* What can be compared, or why nothing can: the model, or a failure. */
static const PercModel *
resolve (const PerceptualChoice *choice,
         int                     layer,
         const GeglRectangle    *area,
         gboolean                has_aux,
         PercMetric             *metric,
         char                  **failure)
{
  const PercModel *model;
  GError          *error = NULL;

  if (!has_aux)
    {
      *failure = g_strdup (_("No image to compare with: connect the aux input"));
      return NULL;
    }
  if (!area->width || !area->height)
    *failure = g_strdup (_("The two images do not overlap: nothing to compare"));
  else if (!(model = perceptual_models_get (choice, metric, &error)))
    *failure = g_strdup_printf (_("Perceptual distance unavailable: %s"), error->message);
  else if (layer >= model->net->n_taps)
    {
      char *why = g_strdup_printf (_("the %s network has layers 1 to %d: there is no layer %d"),
                                   model->net->name, model->net->n_taps, layer + 1);

      *failure = g_strdup_printf (_("Cannot compare the images: %s"), why);
      g_free (why);
      perceptual_models_release (model);
    }
  else if (!perc_model_check_size (model, area->width, area->height, &error))
    {
      *failure = g_strdup_printf (_("Cannot compare the images: %s"), error->message);
      perceptual_models_release (model);
    }
  else
    return model;
  g_clear_error (&error);
  perceptual_warn_once (*failure);
  return NULL;
}

/* The block side: GEGL_PERCEPTUAL_BLOCK (pixels, 16 to 8192) or the
 * default, and no more than the memory budget takes.
 */
static int
block_side (const PercModel     *model,
            const GeglRectangle *area,
            char               **failure)
{
  const char *env = g_getenv ("GEGL_PERCEPTUAL_BLOCK");
  guint64     side = PERCEPTUAL_BLOCK;
  gsize       budget, need;
  int         fits;

  if (env && !g_ascii_string_to_unsigned (env, 10, 16, 8192, &side, NULL))
    {
      *failure = g_strdup_printf (_("GEGL_PERCEPTUAL_BLOCK is “%s”: give a whole number "
                                    "of pixels from 16 to 8192"), env);
      return 0;
    }
  if (!perceptual_memory_budget (&budget, failure))
    return 0;
  fits = perc_tiled_tile_size (model, area->width, area->height, budget,
                               PERC_THREADS_IMAGES, 2, &need);
  if (!fits)
    {
      *failure = g_strdup_printf (_("a memory budget of %zu MiB is too small for the %s "
                                    "network: it needs at least %zu MiB"),
                                  budget >> 20, model->net->name, (need >> 20) + 1);
      return 0;
    }
  return perc_tiled_align (model, MIN ((int) side, fits));
}

void
perceptual_blocks_prepare (GeglOperation          *operation,
                           const PerceptualChoice *choice,
                           int                     layer,
                           gboolean                layer_grid,
                           const char             *format)
{
  const Babl      *space = gegl_operation_get_source_space (operation, "input");
  GeglRectangle   *aux = gegl_operation_source_get_bounding_box (operation, "aux");
  Blocks          *b = blocks_get (operation);
  GeglRectangle    area = overlap (gegl_operation_source_get_bounding_box (operation, "input"), aux);
  PercMetric       metric = { 0 };
  char            *failure = NULL;
  /* An empty aux (a meta op's unconnected aux proxy) is no image either. */
  const PercModel *model = resolve (choice, layer, &area, aux && !gegl_rectangle_is_empty (aux),
                                    &metric, &failure);
  int              side = model ? block_side (model, &area, &failure) : 0;

  if (!b)
    {
      b = g_new0 (Blocks, 1);
      g_mutex_init (&b->lock);
      g_object_set_data_full (G_OBJECT (operation), "perceptual-blocks", b, blocks_free);
    }
  if (failure && model)
    {
      perceptual_warn_once (failure);
      perceptual_models_release (model);
      model = NULL;
    }
  /* Another model, region, block or map: the blocks known so far are not its. */
  if (model != b->model || side != b->side || !same_choice (choice, &b->choice) ||
      layer != b->layer || layer_grid != b->layer_grid || !gegl_rectangle_equal (&area, &b->area) ||
      memcmp (&metric, &b->metric, sizeof metric))
    {
      blocks_reset (b);
      g_free ((char *) b->choice.weights);
      g_free ((char *) b->choice.layers);
      b->choice = *choice;
      b->choice.weights = g_strdup (choice->weights);
      b->choice.layers = g_strdup (choice->layers);
      b->layer = layer;
      b->layer_grid = layer_grid;
      b->area = area;
      b->metric = metric;
      b->model = model;
      if (model)
        {
          b->side = side;
          b->halo = perc_tiled_halo (model);
          b->nx = (area.width + b->side - 1) / b->side;
          b->ny = (area.height + b->side - 1) / b->side;
          b->sums = g_new0 (double, (gsize) b->nx * b->ny * PERC_MAX_TAPS);
          b->known = g_new0 (guint8, (gsize) b->nx * b->ny);
        }
    }
  else
    perceptual_models_release (model);
  g_free (b->failure);
  b->failure = failure;

  gegl_operation_set_format (operation, "input",
                             babl_format_with_space ("R'G'B'A float", space));
  gegl_operation_set_format (operation, "aux",
                             babl_format_with_space ("R'G'B'A float", space));
  gegl_operation_set_format (operation, "output",
                             babl_format_with_space (b->failure ? "R'G'B'A float" : format,
                                                     space));
}

/* Blocks bx0..bx1 x by0..by1 (exclusive) that `roi` meets; FALSE if none. */
static gboolean
blocks_meeting (const Blocks        *b,
                const GeglRectangle *roi,
                int                 *bx0,
                int                 *by0,
                int                 *bx1,
                int                 *by1)
{
  GeglRectangle r;

  if (!b->model || b->layer_grid || !gegl_rectangle_intersect (&r, roi, &b->area))
    return FALSE;
  *bx0 = (r.x - b->area.x) / b->side;
  *by0 = (r.y - b->area.y) / b->side;
  *bx1 = (r.x + r.width - b->area.x + b->side - 1) / b->side;
  *by1 = (r.y + r.height - b->area.y + b->side - 1) / b->side;
  return TRUE;
}

/* The blocks `roi` meets, as one rectangle, with roi itself. */
static GeglRectangle
block_region (const Blocks        *b,
              const GeglRectangle *roi)
{
  GeglRectangle r = *roi, blocks;
  int           bx0, by0, bx1, by1;

  if (blocks_meeting (b, roi, &bx0, &by0, &bx1, &by1))
    {
      blocks = (GeglRectangle) { b->area.x + bx0 * b->side, b->area.y + by0 * b->side,
                                 (bx1 - bx0) * b->side, (by1 - by0) * b->side };
      gegl_rectangle_intersect (&blocks, &blocks, &b->area);
      gegl_rectangle_bounding_box (&r, &r, &blocks);
    }
  return r;
}

/* `r` grown by the halo on every side. */
static GeglRectangle
with_halo (const Blocks        *b,
           const GeglRectangle *r)
{
  return (GeglRectangle) { r->x - b->halo, r->y - b->halo, r->width + 2 * b->halo,
                           r->height + 2 * b->halo };
}

static GeglRectangle
get_bounding_box (GeglOperation *operation)
{
  return perceptual_input_extent (operation);
}

static GeglRectangle
get_cached_region (GeglOperation       *operation,
                   const GeglRectangle *roi)
{
  Blocks *b = blocks_get (operation);

  if (b && b->layer_grid && !b->failure)
    return gegl_operation_get_bounding_box (operation);
  return b ? block_region (b, roi) : *roi;
}

static GeglRectangle
get_required_for_output (GeglOperation       *operation,
                         const gchar         *input_pad,
                         const GeglRectangle *roi)
{
  Blocks       *b = blocks_get (operation);
  GeglRectangle r;

  if (!b || b->failure)
    return *roi;
  if (b->layer_grid)
    return b->area;
  r = block_region (b, roi);
  r = with_halo (b, &r);
  gegl_rectangle_intersect (&r, &r, &b->area);
  return r;
}

static GeglRectangle
get_invalidated_by_change (GeglOperation       *operation,
                           const gchar         *input_pad,
                           const GeglRectangle *roi)
{
  Blocks       *b = blocks_get (operation);
  GeglRectangle r;

  if (!b)
    return *roi;
  /* Changed pixels: the sums of the blocks known so far may be stale. */
  g_mutex_lock (&b->lock);
  if (b->known)
    memset (b->known, 0, (gsize) b->nx * b->ny);
  b->have_whole = FALSE;
  g_mutex_unlock (&b->lock);
  if (b->failure)
    return *roi;
  if (b->layer_grid)
    return gegl_operation_get_bounding_box (operation);
  r = with_halo (b, roi);
  return block_region (b, &r);
}

void
perceptual_blocks_class_init (GeglOperationClass *klass)
{
  GeglOperationComposerClass *composer = GEGL_OPERATION_COMPOSER_CLASS (klass);

  composer->aux_label = _("Compared image");
  composer->aux_description = _("The image compared with the input, which is "
                                "the reference");
  klass->get_bounding_box = get_bounding_box;
  klass->get_required_for_output = get_required_for_output;
  klass->get_cached_region = get_cached_region;
  klass->get_invalidated_by_change = get_invalidated_by_change;
  klass->cache_policy = GEGL_CACHE_POLICY_ALWAYS;
  /* The blocks are spread over GEGL's threads here, not by GEGL: its
   * split of a region would cut blocks and compute them twice.
   */
  klass->threaded = FALSE;
}

/* One process () call's blocks. */
typedef struct
{
  Blocks              *b;
  GeglOperation       *operation;
  GThread             *caller;      /* progress is told from its thread only */
  PerceptualIo         io;          /* the blocks' pixels and their map */
  int                 *blocks;      /* the indices of those to compute */
  int                  n;
  PercThreads          inner;       /* the threads of one block */
  gint                 done;        /* blocks finished */
  GError              *error;       /* the first failure */
} Job;

static gboolean
progress (double   done,
          gpointer data)
{
  Job *j = data;

  if (g_thread_self () == j->caller)
    gegl_operation_progress (j->operation, (g_atomic_int_get (&j->done) + done) / j->n, "");
  return TRUE;
}

/* Thread i of n: blocks n - 1 - i, then every n-th, each with this
 * thread's workspace; GEGL runs thread n - 1 in the caller's, which tells
 * the progress, so that one takes the first block.  One block in n of
 * GEGL's threads runs there with n - 1 threads of its own, while GEGL's
 * others wait: so GEGL's count still holds, and a GEGL already busy
 * elsewhere gives one thread, and one is used.
 */
static void
work (gint     i,
      gint     n,
      gpointer data)
{
  Job            *j = data;
  Blocks         *b = j->b;
  PercTiler      *tiler;
  PercTileOptions o = { .tile = b->side, .layer = b->layer, .write = perceptual_io_write,
                        .write_data = &j->io,
                        .threads = j->n == 1 && n > 1 ? j->inner : PERC_THREADS_ONE,
                        .n_threads = n,
                        .progress = progress, .progress_data = j };

  if (n - 1 - i >= j->n)
    return;
  if (j->n == 1)
    g_debug ("one block in %d thread(s)", perc_threads_count (o.threads, n));
  tiler = perc_tiler_new (b->model);
  for (int k = n - 1 - i; k < j->n; k += n)
    {
      int      bx = j->blocks[k] % b->nx, by = j->blocks[k] / b->nx;
      PercRect block = { bx * b->side, by * b->side, b->side, b->side };
      double   sums[PERC_MAX_TAPS] = { 0 };
      GError  *error = NULL;

      block.width = MIN (block.width, b->area.width - block.x);
      block.height = MIN (block.height, b->area.height - block.y);
      PercDistance part = { .n_layers = b->model->net->n_taps, .kind = b->metric.kind,
                            .layers = b->metric.layers };

      /* A block whose sums overflowed fails as the whole image would. */
      if (!perc_tiler_run_region (tiler, &b->metric, b->area.width, b->area.height,
                                  perceptual_io_read, &j->io, &o, &block, sums, &error) ||
          (memcpy (part.terms, sums, sizeof sums), !perc_distance_total (&part, &error)))
        {
          g_mutex_lock (&b->lock);
          if (!j->error)
            j->error = g_steal_pointer (&error);
          g_mutex_unlock (&b->lock);
          g_clear_error (&error);
          break;
        }
      g_mutex_lock (&b->lock);
      memcpy (b->sums + (gsize) (by * b->nx + bx) * PERC_MAX_TAPS, sums, sizeof sums);
      b->known[by * b->nx + bx] = 1;
      g_mutex_unlock (&b->lock);
      g_atomic_int_inc (&j->done);
    }
  perc_tiler_free (tiler);
}

/* Zero where `result` lies outside `area`: nothing compared there. */
static void
clear_outside (GeglBuffer          *output,
               const GeglRectangle *result,
               const GeglRectangle *area)
{
  int           x0 = MAX (result->x, area->x), x1 = MIN (result->x + result->width,
                                                       area->x + area->width);
  int           y0 = MAX (result->y, area->y), y1 = MIN (result->y + result->height,
                                                       area->y + area->height);
  GeglRectangle parts[4] = {
    { result->x, result->y, result->width, y0 - result->y },                      /* above */
    { result->x, y1, result->width, result->y + result->height - y1 },            /* below */
    { result->x, y0, x0 - result->x, y1 - y0 },                                   /* left */
    { x1, y0, result->x + result->width - x1, y1 - y0 }                           /* right */
  };

  for (int i = 0; i < 4; i++)
    if (parts[i].width > 0 && parts[i].height > 0)
      gegl_buffer_clear (output, &parts[i]);
}

void
perceptual_blocks_process (GeglOperation       *operation,
                           GeglBuffer          *input,
                           GeglBuffer          *aux,
                           GeglBuffer          *output,
                           const GeglRectangle *result,
                           char               **status)
{
  Blocks     *b = blocks_get (operation);
  const Babl *space = gegl_operation_get_source_space (operation, "input");
  int         threads = perceptual_gegl_threads ();
  int         bx0, by0, bx1, by1;
  Job         j;

  g_clear_pointer (status, g_free);
  if (b->failure)
    {
      /* Nothing to compare: the input, unchanged, and why in the status. */
      gegl_buffer_copy (input, result, GEGL_ABYSS_NONE, output, result);
      *status = g_strdup (b->failure);
      return;
    }
  if (b->layer_grid)
    {
      PerceptualResult r;

      gegl_buffer_clear (output, result);
      perceptual_compare (space, input, aux, &b->choice,
                          &(PerceptualMap) { output, b->layer, TRUE },
                          threads, NULL, perceptual_progress, operation, &r);
      if (!r.ok)
        gegl_buffer_clear (output, NULL);
      g_mutex_lock (&b->lock);
      perc_distance_clear (&b->whole);
      b->whole = r.distance;
      memset (&r.distance, 0, sizeof r.distance);
      b->have_whole = r.ok;
      g_mutex_unlock (&b->lock);
      perceptual_result_finish (&r, status);
      return;
    }
  if (!blocks_meeting (b, result, &bx0, &by0, &bx1, &by1))
    {
      /* Outside the compared region: zero. */
      gegl_buffer_clear (output, result);
      return;
    }
  clear_outside (output, result, &b->area);
  if (b->metric.kind != PERC_DISTANCE_SPATIAL)
    {
      char *what;

      gegl_buffer_clear (output, result);
      what = perceptual_compared_status (&b->area,
                                               gegl_operation_source_get_bounding_box (operation, "input"),
                                               gegl_operation_source_get_bounding_box (operation, "aux"));

      *status = g_strdup_printf (_("%s. The %s distance compares whole layers: it has no "
                                   "map, only the distance"), what,
                                 perc_distance_kind_name (b->metric.kind));
      g_free (what);
      return;
    }

  j = (Job) { b, operation, g_thread_self (),
              { babl_format_with_space ("R'G'B' float", space), { input, aux }, output,
                b->area },
              g_new (int, (bx1 - bx0) * (by1 - by0)), 0, PERC_THREADS_ONE, 0, NULL };
  /* Blocks already in this buffer (GEGL's cache, when a request meets
   * blocks computed for an earlier one) stay as they are.
   */
  if (output != b->written)
    {
      memset (b->known, 0, (gsize) b->nx * b->ny);
      g_set_weak_pointer (&b->written, output);
    }
  for (int by = by0; by < by1; by++)
    for (int bx = bx0; bx < bx1; bx++)
      if (!b->known[by * b->nx + bx])
        j.blocks[j.n++] = by * b->nx + bx;
  if (j.n)
    {
      /* One block: its two images (or its ops) in two threads. */
      int n = j.n;

      if (j.n == 1)
        j.inner = perc_tiled_threads (b->model, b->side, b->side, 0, threads);
      if (j.inner != PERC_THREADS_ONE)
        n = perc_threads_count (j.inner, threads);
      g_debug ("comparing %d block(s) of %dx%d pixels in %d thread(s)", j.n, b->side,
               b->side, MIN (n, threads));
      gegl_parallel_distribute (MIN (n, threads), work, &j);
    }
  g_free (j.blocks);
  if (j.error)
    {
      *status = g_strdup_printf (_("Cannot compare the images: %s"), j.error->message);
      perceptual_warn_once (*status);
      g_error_free (j.error);
      gegl_buffer_clear (output, result);
      memset (b->known, 0, (gsize) b->nx * b->ny);
    }
  else
    *status = perceptual_compared_status (&b->area,
                                          gegl_operation_source_get_bounding_box (operation, "input"),
                                          gegl_operation_source_get_bounding_box (operation, "aux"));
}

/* The distance from the blocks' sums, if every block is known. */
static gboolean
from_blocks (Blocks       *b,
             PercDistance *out)
{
  const PercNet *net = b->model->net;
  PercShape     *shapes = g_new (PercShape, net->n_buffers);
  double         sums[PERC_MAX_TAPS] = { 0 };
  gboolean       all = TRUE;

  for (gsize k = 0; all && k < (gsize) b->nx * b->ny; k++)
    {
      all = b->known[k];
      for (int l = 0; all && l < net->n_taps; l++)
        sums[l] += b->sums[k * PERC_MAX_TAPS + l];
    }
  if (all && perc_net_shapes (net, b->area.width, b->area.height, shapes))
    {
      out->n_layers = net->n_taps;
      out->kind = b->metric.kind;
      out->layers = b->metric.layers;
      for (int l = 0; l < net->n_taps; l++)
        {
          const PercShape *s = &shapes[net->taps[l]];

          out->shapes[l] = (PercShape) { 1, s->h, s->w };
          out->terms[l] = sums[l] / ((double) s->h * s->w);
        }
    }
  g_free (shapes);
  return all;
}

typedef struct
{
  GeglNode   *nodes[2];
  const Babl *format;
  int         x, y;
} Sources;

static gboolean
read_source (int             which,
             const PercRect *rect,
             float          *rgb,
             gpointer        data,
             GError        **error)
{
  Sources *s = data;

  gegl_node_blit (s->nodes[which], 1.0,
                  GEGL_RECTANGLE (s->x + rect->x, s->y + rect->y, rect->width, rect->height),
                  s->format, rgb, GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  return TRUE;
}

gboolean
perceptual_blocks_distance (GeglOperation          *operation,
                            const PerceptualChoice *choice,
                            PercDistance           *out,
                            char                  **status)
{
  Blocks          *b = blocks_get (operation);
  GeglNode        *in = gegl_operation_get_source_node (operation, "input");
  GeglNode        *aux = gegl_operation_get_source_node (operation, "aux");
  GeglRectangle    in_box = in ? gegl_node_get_bounding_box (in) : (GeglRectangle) { 0 };
  GeglRectangle    aux_box = aux ? gegl_node_get_bounding_box (aux) : (GeglRectangle) { 0 };
  GeglRectangle    area = overlap (&in_box, &aux_box);
  PercMetric       metric = { 0 };
  char            *failure = NULL;
  const PercModel *model;
  PercTileOptions  options = { .layer = -1 };
  Sources          s;
  GError          *error = NULL;
  gboolean         ok = FALSE;

  memset (out, 0, sizeof *out);
  model = resolve (choice, -1, &area, aux && !gegl_rectangle_is_empty (&aux_box),
                   &metric, &failure);
  if (!model)
    {
      g_free (*status);
      *status = failure;
      return FALSE;
    }
  if (b)
    {
      g_mutex_lock (&b->lock);
      if (b->model == model && same_choice (choice, &b->choice) &&
          gegl_rectangle_equal (&area, &b->area) && !memcmp (&metric, &b->metric, sizeof metric))
        {
          if (b->layer_grid && b->have_whole)
            {
              *out = b->whole;
              memset (out->maps, 0, sizeof out->maps);
              memset (&out->sum, 0, sizeof out->sum);
              ok = TRUE;
            }
          else if (b->known && !b->layer_grid)
            ok = from_blocks (b, out);
        }
      g_mutex_unlock (&b->lock);
      if (ok && !perc_distance_total (out, &error))
        ok = FALSE;
    }
  if (!ok && !error && !perceptual_memory_budget (&options.budget, status))
    {
      perceptual_models_release (model);
      return FALSE;
    }
  if (!ok && !error)
    {
      /* Not every block is known: the whole overlap now, without a map. */
      const Babl *space = gegl_operation_get_source_space (operation, "input");

      s = (Sources) { { in, aux }, babl_format_with_space ("R'G'B' float", space),
                      area.x, area.y };
      options.n_threads = perceptual_gegl_threads ();
      options.threads = perc_tiled_threads (model, area.width, area.height, options.budget,
                                            options.n_threads);
      ok = perc_tiled_compare (model, &metric, area.width, area.height, read_source, &s,
                               &options, out, &error);
    }
  if (!ok)
    {
      g_free (*status);
      *status = g_strdup_printf (_("Cannot compare the images: %s"), error->message);
      perceptual_warn_once (*status);
      g_error_free (error);
    }
  perceptual_models_release (model);
  return ok;
}

void
perceptual_blocks_read (GeglOperation          *operation,
                        const PerceptualChoice *choice,
                        int                     layer,
                        double                 *distance,
                        double                 *term,
                        char                  **status)
{
  PercDistance d;
  gboolean     ok = perceptual_blocks_distance (operation, choice, &d, status);

  *distance = ok ? d.distance : NAN;
  if (term)
    *term = ok && layer >= 0 && layer < d.n_layers ? d.terms[layer] : NAN;
  perc_distance_clear (&d);
}
