/* Tiled comparison.  Position i of a buffer whose stride is S depends on
 * input pixels [i S - lo, i S - lo + ext): its receptive field.  A tile of
 * output pixels needs some positions of every layer (the ones it owns for
 * the means, and the ones its map samples); the crop read for it is the
 * union of their receptive fields, its start aligned to the strides so
 * that the crop's grids line up with the image's.  Positions whose field
 * lies inside the crop (or reaches past a true image border) are exact.
 */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "ops/perc-difference.h"
#include "perc-error.h"
#include "distance/perc-layer-stats.h"
#include "ops/perc-resize.h"
#include "run/perc-tiles.h"

typedef struct
{
  int stride, lo, ext;
} Reach;

static int
gcd (int a, int b)
{
  return b ? gcd (b, a % b) : a;
}

/* Every buffer's reach, and the alignment all strides divide. */
static int
reaches (const PercNet *net,
         Reach         *r)
{
  int align = 1;

  memset (r, 0, sizeof (Reach) * net->n_buffers);
  r[0] = (Reach) { 1, 0, 1 };
  for (int i = 0; i < net->n_ops; i++)
    {
      const PercOp *op = &net->ops[i];

      /* A residual add reads both sources at the same positions. */
      for (int k = 0; k < (op->kind == PERC_OP_ADD ? 2 : 1); k++)
        {
          const Reach *s = &r[k ? op->src2 : op->src];
          Reach       *d = &r[op->dst];
          Reach        n = { s->stride * op->stride, op->pad * s->stride + s->lo,
                             (op->kernel - 1) * s->stride + s->ext };

          if (d->stride)
            {
              /* Several producers: the union of their fields. */
              int lo = MAX (d->lo, n.lo);
              int end = MAX (d->ext - d->lo, n.ext - n.lo);

              g_assert (d->stride == n.stride);
              n = (Reach) { n.stride, lo, end + lo };
            }
          *d = n;
          align = align / gcd (align, n.stride) * n.stride;
        }
    }
  return align;
}

/* The widest tap's reach past a tile, plus the alignment on both sides. */
static int
halo_of (const PercNet *net,
         const Reach   *r,
         int            align)
{
  int halo = 0;

  for (int l = 0; l < net->n_taps; l++)
    halo = MAX (halo, r[net->taps[l]].ext + r[net->taps[l]].stride);
  return halo + 2 * align;
}

typedef struct
{
  const PercModel *model;
  int              n_layers;
  int              width, height;
  int              align;
  Reach            reach[PERC_MAX_TAPS];
  PercShape        grid[PERC_MAX_TAPS];    /* whole-image layer grids */
  PercResizeTap   *xs[PERC_MAX_TAPS];
  PercResizeTap   *ys[PERC_MAX_TAPS];
  int              halo;                   /* widest reach, plus alignment */
} Plan;

static void
plan_clear (Plan *p)
{
  for (int l = 0; l < PERC_MAX_TAPS; l++)
    {
      g_free (p->xs[l]);
      g_free (p->ys[l]);
    }
}

static gboolean
plan_init (Plan            *p,
           const PercModel *model,
           int              width,
           int              height,
           GError         **error)
{
  const PercNet *net = model->net;
  Reach         *r = g_new (Reach, net->n_buffers);
  PercShape     *shapes = g_new (PercShape, net->n_buffers);

  memset (p, 0, sizeof *p);
  p->model = model;
  p->n_layers = net->n_taps;
  p->width = width;
  p->height = height;
  p->align = reaches (net, r);
  if (!perc_model_check_size (model, width, height, error))
    {
      g_free (r);
      g_free (shapes);
      return FALSE;
    }
  /* The minimum size is where every buffer is non-empty. */
  if (!perc_net_shapes (net, width, height, shapes))
    g_assert_not_reached ();
  for (int l = 0; l < p->n_layers; l++)
    {
      p->reach[l] = r[net->taps[l]];
      p->grid[l] = shapes[net->taps[l]];
    }
  p->halo = halo_of (net, r, p->align);
  g_free (r);
  g_free (shapes);
  return TRUE;
}

/* Working memory for a crop of w x h. */
static gsize
crop_bytes (const PercModel *model,
            int              w,
            int              h,
            PercThreads      threads,
            int              n_threads)
{
  return perc_pair_bytes (model, w, h, threads, n_threads) +
         2 * 3 * (gsize) w * h * sizeof (float) +     /* the two crops */
         5 * (gsize) w * h * sizeof (float);          /* differences, norms, map */
}

static gsize
tile_bytes (const Plan *p,
            int         tile,
            PercThreads threads,
            int         n_threads)
{
  return crop_bytes (p->model, MIN (tile + p->halo, p->width),
                     MIN (tile + p->halo, p->height), threads, n_threads);
}

int
perc_tiled_tile_size (const PercModel *model,
                      int              width,
                      int              height,
                      gsize            budget,
                      PercThreads      threads,
                      int              n_threads,
                      gsize           *bytes)
{
  Plan p;
  int  lo, hi;

  if (!plan_init (&p, model, width, height, NULL))
    return 0;
  budget = budget ? budget : PERC_DEFAULT_BUDGET;
  /* The largest multiple of the alignment whose tile fits. */
  lo = 0;
  hi = (MAX (width, height) + p.align - 1) / p.align;
  while (lo < hi)
    {
      int mid = (lo + hi + 1) / 2;

      if (tile_bytes (&p, mid * p.align, threads, n_threads) <= budget)
        lo = mid;
      else
        hi = mid - 1;
    }
  if (bytes)
    *bytes = tile_bytes (&p, MAX (lo, 1) * p.align, threads, n_threads);
  plan_clear (&p);
  return lo * p.align;
}

static int
tile_count (int width,
            int height,
            int tile)
{
  return tile ? ((width + tile - 1) / tile) * ((height + tile - 1) / tile) : G_MAXINT;
}

PercThreads
perc_tiled_threads (const PercModel *model,
                    int              width,
                    int              height,
                    gsize            budget,
                    int              n_threads)
{
  int       images, split;
  gboolean  pays = FALSE;

  if (n_threads < 2)
    return PERC_THREADS_ONE;
  if (n_threads > 2)
    return PERC_THREADS_SPLIT;
  images = perc_tiled_tile_size (model, width, height, budget, PERC_THREADS_IMAGES, 2, NULL);
  split = perc_tiled_tile_size (model, width, height, budget, PERC_THREADS_SPLIT, 2, NULL);
  if (images && tile_count (width, height, images) == 1)
    {
      PercShape *shapes = g_new (PercShape, model->net->n_buffers);

      perc_net_shapes (model->net, width, height, shapes);
      pays = perc_network_split_pays (model, shapes);
      g_free (shapes);
    }
  return images && !pays && tile_count (width, height, images) <= tile_count (width, height, split) ?
         PERC_THREADS_IMAGES : PERC_THREADS_SPLIT;
}

/* Positions [*a, *b) of layer l that output pixels [x0, x1) of an axis of
 * `size` pixels need; the owned ones in [*own0, *own1).
 */
static void
needed (const Plan          *p,
        int                  l,
        int                  n,
        const PercResizeTap *taps,
        int                  size,
        int                  x0,
        int                  x1,
        int                 *own0,
        int                 *own1,
        int                 *a,
        int                 *b)
{
  int s = p->reach[l].stride;

  *own0 = MIN (x0 / s, n);
  *own1 = x1 == size ? n : MIN (x1 / s, n);
  *a = *own0;
  *b = *own1;
  if (taps)
    {
      *a = MIN (*a, taps[x0].i0);
      *b = MAX (*b, taps[x1 - 1].i1 + 1);
    }
}

/* The crop [*c0, *c1) of an axis that holds the receptive fields of
 * positions [a[l], b[l]) of every layer; FALSE if no layer needs any.
 */
static gboolean
crop_axis (const Plan *p,
           const int  *a,
           const int  *b,
           int         size,
           int        *c0,
           int        *c1)
{
  int lo = G_MAXINT, hi = 0;

  for (int l = 0; l < p->n_layers; l++)
    if (a[l] < b[l])
      {
        const Reach *r = &p->reach[l];

        lo = MIN (lo, a[l] * r->stride - r->lo);
        hi = MAX (hi, (b[l] - 1) * r->stride - r->lo + r->ext);
      }
  if (lo > hi)
    return FALSE;
  lo = MAX (lo, 0);
  *c0 = lo / p->align * p->align;
  *c1 = MIN (hi, size);
  /* The network needs a minimum size even where only early layers count. */
  if (*c1 - *c0 < p->model->min_size)
    {
      *c1 = MIN (size, *c0 + p->model->min_size);
      if (*c1 - *c0 < p->model->min_size)
        *c0 = MAX (0, *c1 - p->model->min_size) / p->align * p->align;
    }
  return TRUE;
}

struct _PercTiler
{
  const PercModel *model;
  Plan           plan;
  PercPair      *pair;
  PercShape      shape[PERC_MAX_TAPS];  /* each layer's grid in the crop */
  float         *rgb[2], *diff[PERC_MAX_TAPS], *map;
  gsize          rgb_size[2], diff_size[PERC_MAX_TAPS], map_size;
  float         *inv[PERC_MAX_TAPS][2];   /* each layer's inverse norms, per image */
  gsize          inv_size[PERC_MAX_TAPS][2];
  PercThreads    threads;
  int            n_threads;
  PercLayerSum   sums[PERC_MAX_TAPS];
  guint          layers;        /* the metric's */
};

PercTiler *
perc_tiler_new (const PercModel *model)
{
  PercTiler *t = g_new0 (PercTiler, 1);

  t->model = model;
  t->pair = perc_pair_new (model);
  return t;
}

void
perc_tiler_free (PercTiler *t)
{
  if (!t)
    return;
  perc_pair_free (t->pair);
  for (int l = 0; l < PERC_MAX_TAPS; l++)
    {
      g_free (t->diff[l]);
      g_free (t->inv[l][0]);
      g_free (t->inv[l][1]);
      perc_layer_sum_clear (&t->sums[l]);
    }
  g_free (t->rgb[0]);
  g_free (t->rgb[1]);
  g_free (t->map);
  plan_clear (&t->plan);
  g_free (t);
}

/* The positions of a layer's grid a tile owns: [x0, x1) x [y0, y1). */
typedef struct
{
  int x0, x1, y0, y1;
} Owned;

/* What a tile's tap reductions need to know. */
typedef struct
{
  PercTiler             *w;
  const PercMetric      *metric;
  const PercTileOptions *o;
  int                    cx0, cy0;
  const Owned           *own;             /* per layer */
  double                 done, share;   /* of the work, before and in this tile */
  gboolean               stop;          /* the progress callback said so */
} Tile;

/* Layer l of image k of the crop alone: its inverse norms, for the
 * spatial distance.  Runs in the image's thread.
 */
static void
reduce_image (int              l,
              int              k,
              const PercShape *s,
              const float     *f,
              gpointer         data)
{
  Tile      *t = data;
  PercTiler *w = t->w;
  gsize      n = (gsize) s->h * s->w;

  if (t->metric->kind == PERC_DISTANCE_SPATIAL)
    perc_inverse_norms (f, s->c, n, perc_reserve (&w->inv[l][k], &w->inv_size[l][k], n));
}

/* Reduces layer l of the crop: its share of the layer's sum (or layer
 * statistics) over the positions the tile owns, and its distance map.
 * Runs in any of the pair's threads, one layer at a time.
 */
static void
reduce (int              l,
        const PercShape *s,
        const float     *f0,
        const float     *f1,
        gpointer         data)
{
  Tile                  *t = data;
  PercTiler             *w = t->w;
  const Plan            *p = &w->plan;
  const Owned           *own = &t->own[l];
  gsize                  n = (gsize) s->h * s->w;
  int                    ox = t->cx0 / p->reach[l].stride, oy = t->cy0 / p->reach[l].stride;
  float                 *d = NULL;

  w->shape[l] = *s;
  if (t->metric->kind == PERC_DISTANCE_SPATIAL)
    d = perc_reserve (&w->diff[l], &w->diff_size[l], n);
  /* The positions this tile owns, for the layer's term. */
  perc_layer_sum_add (&w->sums[l], p->model, t->metric, l, s, f0, w->inv[l][0], f1,
                      w->inv[l][1], own->x0 - ox, own->y0 - oy, own->x1 - ox, own->y1 - oy, d);
}

/* After layer l of a tile, in the calling thread: the layer's own map if
 * it is asked for, and the progress.
 */
static void
deliver (int      l,
         gpointer data)
{
  Tile                  *t = data;
  PercTiler             *w = t->w;
  const PercTileOptions *o = t->o;
  const Owned           *own = &t->own[l];

  if (o->write && o->layer_grid && o->layer == l && own->x0 < own->x1 && own->y0 < own->y1)
    {
      const Plan *p = &w->plan;
      int         ox = t->cx0 / p->reach[l].stride, oy = t->cy0 / p->reach[l].stride;
      PercRect    r = { own->x0, own->y0, own->x1 - own->x0, own->y1 - own->y0 };
      float      *m = perc_reserve (&w->map, &w->map_size, (gsize) r.width * r.height);

      for (int y = 0; y < r.height; y++)
        memcpy (m + (gsize) y * r.width,
                w->diff[l] + (gsize) (r.y + y - oy) * w->shape[l].w + (r.x - ox),
                r.width * sizeof (float));
      o->write (&r, m, o->write_data);
    }
  if (o->progress && !t->stop &&
      !o->progress (t->done + t->share * (l + 1) / w->plan.n_layers, o->progress_data))
    t->stop = TRUE;
}

static gboolean
run_tile (PercTiler             *w,
          const PercMetric      *metric,
          PercReadRegion         read,
          gpointer               read_data,
          const PercTileOptions *o,
          const PercRect        *tile,
          double                 done,
          double                 share,
          GError               **error)
{
  const Plan *p = &w->plan;
  Owned       own[PERC_MAX_TAPS];
  int         ax[PERC_MAX_TAPS], bx[PERC_MAX_TAPS];
  int         ay[PERC_MAX_TAPS], by[PERC_MAX_TAPS];
  int         cx0, cx1, cy0, cy1;
  PercRect    crop;
  PercImage   images[2];
  Tile        t = { w, metric, o, 0, 0, own, done, share, FALSE };

  for (int l = 0; l < p->n_layers; l++)
    {
      /* An upsampled map samples the selected layers (or the chosen one). */
      gboolean sampled = o->write && !o->layer_grid &&
                         (o->layer < 0 ? (w->layers >> l) & 1 : o->layer == l);

      needed (p, l, p->grid[l].w, sampled ? p->xs[l] : NULL, p->width,
              tile->x, tile->x + tile->width, &own[l].x0, &own[l].x1, &ax[l], &bx[l]);
      needed (p, l, p->grid[l].h, sampled ? p->ys[l] : NULL, p->height,
              tile->y, tile->y + tile->height, &own[l].y0, &own[l].y1, &ay[l], &by[l]);
    }
  /* Past the last position of every layer: nothing to do. */
  if (!crop_axis (p, ax, bx, p->width, &cx0, &cx1) ||
      !crop_axis (p, ay, by, p->height, &cy0, &cy1))
    return TRUE;
  crop = (PercRect) { cx0, cy0, cx1 - cx0, cy1 - cy0 };
  t.cx0 = cx0;
  t.cy0 = cy0;

  for (int k = 0; k < 2; k++)
    {
      float *rgb = perc_reserve (&w->rgb[k], &w->rgb_size[k],
                                 3 * (gsize) crop.width * crop.height);

      if (!read (k, &crop, rgb, read_data, error))
        return FALSE;
      images[k] = (PercImage) { crop.width, crop.height, 3 * (gsize) crop.width, rgb };
    }
  if (!perc_pair_run (w->pair, &images[0], &images[1],
                      perc_calibration_scales (metric->calibration),
                      w->threads, w->n_threads, reduce_image, reduce, deliver, &t, error))
    return FALSE;
  if (t.stop)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_CANCELLED, _("cancelled"));
      return FALSE;
    }

  if (o->write && !o->layer_grid)
    {
      float   *m = perc_reserve (&w->map, &w->map_size, (gsize) tile->width * tile->height);
      gboolean first = TRUE;

      for (int l = 0; l < p->n_layers; l++)
        if (o->layer < 0 ? (w->layers >> l) & 1 : o->layer == l)
          {
            int st = p->reach[l].stride;

            perc_resize_region (w->diff[l], cx0 / st, cy0 / st, w->shape[l].w,
                                p->xs[l], p->ys[l], tile->x, tile->y,
                                tile->width, tile->height, m, !first);
            first = FALSE;
          }
      o->write (tile, m, o->write_data);
    }
  return TRUE;
}

/* What every run shares: the checks, the plan, the tile side (in *tile). */
static gboolean
setup (PercTiler             *w,
       const PercMetric      *metric,
       int                    width,
       int                    height,
       const PercTileOptions *o,
       int                   *tile,
       GError               **error)
{
  const PercModel *model = w->model;
  gsize            budget = o->budget ? o->budget : PERC_DEFAULT_BUDGET;

  plan_clear (&w->plan);
  w->threads = o->threads;
  w->n_threads = o->n_threads;
  w->layers = perc_metric_check (model, metric, error);
  if (!w->layers || !plan_init (&w->plan, model, width, height, error))
    return FALSE;
  if (o->write && metric->kind != PERC_DISTANCE_SPATIAL)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                   /* TRANSLATORS: a distance function, mean-pool or style. */
                   _("the %s distance has no map: it compares whole layers"),
                   perc_distance_kind_name (metric->kind));
      return FALSE;
    }
  for (int l = 0; l < w->plan.n_layers; l++)
    perc_layer_sum_reset (&w->sums[l], metric->kind, model->net->channels[model->net->taps[l]]);
  if (o->layer >= w->plan.n_layers)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                   _("the %s network has layers 1 to %d: there is no layer %d"),
                   model->net->name, w->plan.n_layers, o->layer + 1);
      return FALSE;
    }

  *tile = o->tile;
  if (*tile <= 0)
    {
      gsize need;

      *tile = perc_tiled_tile_size (model, width, height, budget, o->threads, o->n_threads,
                                    &need);
      if (!*tile)
        {
          g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                       _("a memory budget of %zu MiB is too small for the %s "
                         "network: it needs at least %zu MiB"),
                       budget >> 20, model->net->name, (need >> 20) + 1);
          return FALSE;
        }
    }
  *tile = perc_tiled_align (model, *tile);

  for (int l = 0; o->write && !o->layer_grid && l < w->plan.n_layers; l++)
    {
      w->plan.xs[l] = perc_resize_taps (w->plan.grid[l].w, width);
      w->plan.ys[l] = perc_resize_taps (w->plan.grid[l].h, height);
    }
  return TRUE;
}

/* Runs the tiles of side `tile` that meet `region`, in rows. */
static gboolean
run_tiles (PercTiler             *w,
           const PercMetric      *metric,
           PercReadRegion         read,
           gpointer               read_data,
           const PercTileOptions *o,
           int                    tile,
           const PercRect        *region,
           GError               **error)
{
  int    x0 = region->x / tile * tile, y0 = region->y / tile * tile;
  int    x1 = region->x + region->width, y1 = region->y + region->height;
  double area = (double) region->width * region->height, done = 0;

  for (int y = y0; y < y1; y += tile)
    for (int x = x0; x < x1; x += tile)
      {
        PercRect t = { x, y, MIN (tile, w->plan.width - x), MIN (tile, w->plan.height - y) };
        double   share = (double) (MIN (x + tile, x1) - MAX (x, region->x)) *
                         (MIN (y + tile, y1) - MAX (y, region->y)) / area;

        if (!run_tile (w, metric, read, read_data, o, &t, done, share, error))
          return FALSE;
        done += share;
      }
  return TRUE;
}

gboolean
perc_tiler_run (PercTiler             *w,
                const PercMetric      *metric,
                int                    width,
                int                    height,
                PercReadRegion         read,
                gpointer               read_data,
                const PercTileOptions *options,
                PercDistance          *out,
                GError               **error)
{
  PercRect whole = { 0, 0, width, height };
  int      tile;

  if (!setup (w, metric, width, height, options, &tile, error) ||
      !run_tiles (w, metric, read, read_data, options, tile, &whole, error))
    return FALSE;
  out->n_layers = w->plan.n_layers;
  out->kind = metric->kind;
  out->layers = w->layers;
  for (int l = 0; l < w->plan.n_layers; l++)
    {
      out->shapes[l] = (PercShape) { 1, w->plan.grid[l].h, w->plan.grid[l].w };
      out->terms[l] = perc_layer_sum_term (&w->sums[l],
                                           (gsize) w->plan.grid[l].h * w->plan.grid[l].w);
    }
  return perc_distance_total (out, error);
}

gboolean
perc_tiler_run_region (PercTiler             *w,
                       const PercMetric      *metric,
                       int                    width,
                       int                    height,
                       PercReadRegion         read,
                       gpointer               read_data,
                       const PercTileOptions *options,
                       const PercRect        *region,
                       double                *sums,
                       GError               **error)
{
  int tile;

  g_return_val_if_fail (options->tile > 0 && metric->kind == PERC_DISTANCE_SPATIAL, FALSE);
  if (!setup (w, metric, width, height, options, &tile, error) ||
      !run_tiles (w, metric, read, read_data, options, tile, region, error))
    return FALSE;
  for (int l = 0; l < w->plan.n_layers; l++)
    sums[l] = w->sums[l].sum;
  return TRUE;
}

int
perc_tiled_align (const PercModel *model,
                  int              tile)
{
  Reach *r = g_new (Reach, model->net->n_buffers);
  int    align = reaches (model->net, r);

  g_free (r);
  /* Tiles start on the grid every stride divides. */
  return MAX (align, (tile + align - 1) / align * align);
}

int
perc_tiled_halo (const PercModel *model)
{
  const PercNet *net = model->net;
  Reach         *r = g_new (Reach, net->n_buffers);
  int            align = reaches (net, r);
  int            halo = halo_of (net, r, align);

  g_free (r);
  /* As plan_init (), and room for crop_axis ()'s minimum size. */
  return halo + model->min_size;
}

gboolean
perc_tiled_compare (const PercModel       *model,
                    const PercMetric      *metric,
                    int                    width,
                    int                    height,
                    PercReadRegion         read,
                    gpointer               read_data,
                    const PercTileOptions *options,
                    PercDistance          *out,
                    GError               **error)
{
  PercTiler *t = perc_tiler_new (model);
  gboolean   ok = perc_tiler_run (t, metric, width, height, read, read_data,
                                  options, out, error);

  perc_tiler_free (t);
  return ok;
}
