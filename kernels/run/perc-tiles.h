/* Distances of images of any size in bounded memory: the image is cut
 * into tiles, each run through the network with a halo wide enough for
 * every tap's receptive field and aligned to the network's strides, so
 * that the result equals the whole-image computation.
 */
#ifndef PERC_TILES_H
#define PERC_TILES_H

#include <glib.h>

#include "distance/perc-distance.h"
#include "run/perc-pair.h"

G_BEGIN_DECLS

#define PERC_DEFAULT_BUDGET ((gsize) 512 << 20)

typedef struct
{
  int x, y, width, height;
} PercRect;

/* Fills rgb (interleaved R'G'B' float, rect->width * 3 floats a row) with
 * region `rect` of image `which` (0: the reference, 1: the compared one).
 */
typedef gboolean (*PercReadRegion)  (int             which,
                                     const PercRect *rect,
                                     float          *rgb,
                                     gpointer        user_data,
                                     GError        **error);

/* Receives a region of the output map, rect->width * rect->height floats. */
typedef void     (*PercWriteRegion) (const PercRect *rect,
                                     const float    *map,
                                     gpointer        user_data);

/* Told how much of the work is done, from 0 to 1, as it goes (after each
 * layer of each tile); returning FALSE stops the work, which then fails
 * with PERC_ERROR_CANCELLED.
 */
typedef gboolean (*PercProgress)    (double          done,
                                     gpointer        user_data);

typedef struct
{
  gsize           budget;       /* bytes of working memory; 0: the default */
  int             tile;         /* output tile side; 0: the largest the budget allows */
  int             layer;        /* -1: the spatial map (the selected layers); else one layer */
  gboolean        layer_grid;   /* with layer >= 0: that layer's own grid */
  PercWriteRegion write;        /* NULL: no map, only the numbers */
  gpointer        write_data;
  PercThreads     threads;      /* how threads share the work */
  int             n_threads;    /* split: the threads sharing every op (2 if fewer) */
  PercProgress    progress;     /* NULL: not told */
  gpointer        progress_data;
} PercTileOptions;

/* A reusable workspace for tiled comparisons with one model: the network's
 * buffers are kept between calls (a batch, a benchmark).  One per thread.
 */
typedef struct _PercTiler PercTiler;

PercTiler *perc_tiler_new  (const PercModel *model);
void       perc_tiler_free (PercTiler       *tiler);

/* perc_tiled_compare () with the tiler's buffers. */
gboolean   perc_tiler_run  (PercTiler             *tiler,
                            const PercMetric      *metric,
                            int                    width,
                            int                    height,
                            PercReadRegion         read,
                            gpointer               read_data,
                            const PercTileOptions *options,
                            PercDistance          *out,
                            GError               **error);

/* Only the tiles of side options->tile (> 0; the spatial distance) that
 * meet `region`: their map goes to options->write, tile by tile, and
 * sums[l] gets layer l's sum over the positions they own.  The grid of
 * tiles is the same for every region, and its tiles own disjoint
 * positions: the sums of all tiles, divided by each grid's size, are the
 * whole image's terms.
 */
gboolean   perc_tiler_run_region (PercTiler             *tiler,
                                  const PercMetric      *metric,
                                  int                    width,
                                  int                    height,
                                  PercReadRegion         read,
                                  gpointer               read_data,
                                  const PercTileOptions *options,
                                  const PercRect        *region,
                                  double                *sums,
                                  GError               **error);

/* The tile side the tiler uses for `tile`: rounded up to the grid every
 * stride of the network divides.
 */
int        perc_tiled_align      (const PercModel       *model,
                                  int                    tile);

/* How far past a tile the pixels it reads can lie, in every direction. */
int        perc_tiled_halo       (const PercModel       *model);

/* The distance of two width x height images read through `read`.  `out`
 * gets the scalar, the terms and each layer's grid size (no maps); maps
 * go to options->write region by region.  Fails if the images are too
 * small for the network, hold non-finite values, or the budget cannot
 * hold even the smallest tile (the error says how much it needs).
 */
gboolean perc_tiled_compare (const PercModel       *model,
                             const PercMetric      *metric,
                             int                    width,
                             int                    height,
                             PercReadRegion         read,
                             gpointer               read_data,
                             const PercTileOptions *options,
                             PercDistance          *out,
                             GError               **error);

/* How to use the n_threads the caller allows: with two, the images side
 * by side if the budget takes the image in as few tiles that way, unless
 * the image is whole and split ops take less time on it
 * (perc_network_split_pays ()); else split ops; with more, split ops.
 */
PercThreads perc_tiled_threads (const PercModel *model,
                                int              width,
                                int              height,
                                gsize            budget,
                                int              n_threads);

/* The output tile side perc_tiled_compare () uses for `budget` (0 if none
 * fits), and the bytes a tile of that side needs.
 */
int      perc_tiled_tile_size (const PercModel *model,
                               int              width,
                               int              height,
                               gsize            budget,
                               PercThreads      threads,
                               int              n_threads,
                               gsize           *bytes);

G_END_DECLS

#endif
