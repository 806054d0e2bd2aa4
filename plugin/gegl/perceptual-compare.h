/* What the perceptual ops share: comparing the `input` and `aux` buffers
 * of a composer with a model.
 */
#ifndef PERCEPTUAL_COMPARE_H
#define PERCEPTUAL_COMPARE_H

#include <gegl.h>
#include <gegl-plugin.h>

#include "distance/perc-distance.h"
#include "run/perc-tiles.h"
#include "perceptual-enums.h"
#include "perceptual-models.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean         ok;          /* FALSE: nothing compared, see status */
  GeglRectangle    area;        /* the compared region: input and aux overlap */
  const PercModel *model;
  PercMetric       metric;      /* what was computed */
  PercDistance     distance;    /* the numbers and layer grid sizes, no maps */
  gboolean         has_map;     /* the map was written (spatial distances) */
  char            *status;      /* what happened, for people */
} PerceptualResult;

/* Which map a comparison writes, and where. */
typedef struct
{
  GeglBuffer *buffer;           /* "Y float" pixels land at area's origin */
  int         layer;            /* -1: the spatial map; else one layer's */
  gboolean    layer_grid;       /* that layer at its own resolution */
} PerceptualMap;

/* The core's tiler reading two GEGL buffers and writing its map into a
 * third: its regions lie at area's origin, read as `rgb` (R'G'B' float in
 * some space), the map written as Y float in that space.
 */
typedef struct
{
  const Babl    *rgb;
  GeglBuffer    *buffers[2];    /* the reference, the compared image */
  GeglBuffer    *map;
  GeglRectangle  area;
} PerceptualIo;

gboolean perceptual_io_read              (int                    which,
                                          const PercRect        *rect,
                                          float                 *rgb,
                                          gpointer               io,
                                          GError               **error);
void     perceptual_io_write             (const PercRect        *rect,
                                          const float           *map,
                                          gpointer               io);

/* Working memory kept from one comparison to the next, as in a batch: the
 * core's tiler for one model, which it holds.  Zero-initialised, cleared
 * with perceptual_workspace_clear (); one per thread.
 */
typedef struct
{
  const PercModel *model;
  PercTiler       *tiler;
} PerceptualWorkspace;

void     perceptual_workspace_clear      (PerceptualWorkspace   *workspace);

/* Compares input and aux over their overlap, region by region within the
 * memory budget (GEGL_PERCEPTUAL_MEMORY_BUDGET, MiB; default 512), with up
 * to `threads` threads, in `workspace` (NULL: a new one for this call), and
 * writes `map` (may be NULL; distances other than the spatial one have
 * none, and say so in the status).  Problems (no aux, too small an overlap,
 * missing weights, NaN pixels ...) give ok = FALSE, a status that says
 * why, and a warning once per process for the ones a user must act on.
 * Both buffers are read as R'G'B' float in `space` (an op: its input's):
 * alpha is ignored, as the reference implementation ignores it.
 */
void     perceptual_compare              (const Babl            *space,
                                          GeglBuffer            *input,
                                          GeglBuffer            *aux,
                                          const PerceptualChoice *choice,
                                          const PerceptualMap   *map,
                                          int                    threads,
                                          PerceptualWorkspace   *workspace,
                                          PercProgress           progress,
                                          gpointer               progress_data,
                                          PerceptualResult      *result);

/* The ops' working memory: GEGL_PERCEPTUAL_MEMORY_BUDGET (whole MiB, 1 to
 * 2^20) or the default; FALSE, with *status saying why, if it is not one.
 */
gboolean perceptual_memory_budget        (gsize                 *budget,
                                          char                 **status);

/* What a status says when `area`, the overlap of input and aux, was
 * compared.
 */
char    *perceptual_compared_status      (const GeglRectangle   *area,
                                          const GeglRectangle   *input,
                                          const GeglRectangle   *aux);

/* A PercProgress that reports to GEGL: gegl_operation_progress () on the
 * operation given as its data, so that GIMP's progress bar and the gegl
 * command line move.
 */
gboolean perceptual_progress             (double                 done,
                                          gpointer               operation);

/* The heatmap of `area`: the distance map `map` in colour over the
 * reference (both read region by region), into `output` in `format`
 * (R'G'B'A float in some space), as perceptual_colormap_paint () paints
 * it.  With auto_range, [0, largest distance].  Returns the range's end.
 */
double   perceptual_paint_heatmap        (GeglBuffer            *reference,
                                          GeglBuffer            *map,
                                          const GeglRectangle   *area,
                                          const char            *colormap,
                                          gboolean               auto_range,
                                          double                 range_min,
                                          double                 range_max,
                                          double                 opacity,
                                          GeglBuffer            *output,
                                          const Babl            *format);
void     perceptual_result_clear         (PerceptualResult      *result);
/* Moves the status into *status (an op's property) and clears. */
void     perceptual_result_finish        (PerceptualResult      *result,
                                          char                 **status);

/* The threads GEGL was given (its "threads" setting). */
int      perceptual_gegl_threads         (void);

/* The operation's extent: its input's, or empty when that is infinite. */
GeglRectangle perceptual_input_extent    (GeglOperation         *operation);

G_END_DECLS

#endif
