/* Times one LPIPS distance (both images through the network), with and
 * without the spatial map, at a few sizes; prints which BLIS kernels ran
 * and the peak memory.  Images up to 1024 x 1024 are made before the
 * timing and copied region by region; larger ones are made region by
 * region, so that their runs measure the tiled path's memory, not the
 * images'.
 *
 *   bench-distance [--runs N] [--budget MIB] [--threads one|images|split]
 *                  [--cores N] [--json] [MODEL] [SIZE...]
 *
 * --threads: one thread, the two images in two threads, or every op split
 * between the threads allowed (perc-pair.h); by default the choice the ops
 * make (perc_tiled_threads ()).  --cores: the threads allowed (default
 * BLIS_NUM_THREADS, OMP_NUM_THREADS or every core).
 * Without a model file the installed squeeze lpips-v0.1 model is used.
 * Weights do not change the time, so a synthetic model is fine.  With
 * --json, one JSON object per size (times in seconds, the peak resident
 * memory of the process so far in MiB).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "gegl/perceptual-settings.h"
#include "run/perc-tiles.h"

/* Images of up to this side are made once, before the timing, and copied
 * region by region, as PyTorch's tensors exist before its timing; larger
 * ones are made region by region, so that the tiled path's memory is
 * measured, not the images'.
 */
#define STORED_MAX 1024

typedef struct
{
  int    size;
  float *rgb[2];    /* NULL: made region by region */
} Images;

/* A smooth pattern and a distorted copy, for any region. */
static gboolean
make_region (int which, const PercRect *r, float *rgb, gpointer data, GError **error)
{
  for (int y = 0; y < r->height; y++)
    for (int x = 0; x < r->width; x++)
      for (int c = 0; c < 3; c++)
        {
          int   gx = r->x + x, gy = r->y + y;
          float v = 0.5f + 0.4f * sinf (gx * 0.05f + c) * cosf (gy * 0.031f - c);

          if (which && (gx / 37 + gy / 23) % 5 == 0)
            v = 1.0f - v;
          rgb[((gsize) y * r->width + x) * 3 + c] = v;
        }
  return TRUE;
}

static gboolean
read_region (int which, const PercRect *r, float *rgb, gpointer data, GError **error)
{
  const Images *im = data;

  if (!im->rgb[which])
    return make_region (which, r, rgb, NULL, error);
  for (int y = 0; y < r->height; y++)
    memcpy (rgb + (gsize) y * r->width * 3,
            im->rgb[which] + ((gsize) (r->y + y) * im->size + r->x) * 3,
            (gsize) r->width * 3 * sizeof (float));
  return TRUE;
}

static void
discard (const PercRect *r, const float *map, gpointer data)
{
  *(float *) data += map[0];
}

static const char *const thread_names[] = { "one", "images", "split" };
static int                threads = -1;     /* -1: as the ops choose */
static int                allowed;          /* the threads the caller allows */

static double
best_time (PercTiler *tiler, const Images *images, int n, gboolean spatial, gsize budget, int runs,
           PercThreads mode, double *distance)
{
  PercDistance    d = { 0 };
  double          best = G_MAXDOUBLE;
  float           sink = 0;
  PercTileOptions o = { .budget = budget, .layer = -1,
                        .write = spatial ? discard : NULL, .write_data = &sink,
                        .threads = mode, .n_threads = allowed };
  GError         *error = NULL;

  for (int r = 0; r < runs + 1; r++)     /* the first run warms up */
    {
      gint64 t0 = g_get_monotonic_time ();

      if (!perc_tiler_run (tiler, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 }, n, n, read_region, (gpointer) images,
                           &o, &d, &error))
        {
          fprintf (stderr, "bench-distance: %s\n", error->message);
          exit (1);
        }
      if (r > 0 || runs == 0)
        best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
      if (runs == 0)
        break;
    }
  *distance = d.distance;
  return best;
}

int
main (int argc, char **argv)
{
  int         sizes[16], n_sizes = 0, runs = 3, cores = 0;
  gboolean    json = FALSE;
  gsize       budget = 0;
  const char *path = NULL;
  char       *found = NULL, *blis;
  PercModel  *model;
  GError     *error = NULL;

  for (int i = 1; i < argc; i++)
    if (!g_strcmp0 (argv[i], "--runs") && i + 1 < argc)
      runs = atoi (argv[++i]);
    else if (!g_strcmp0 (argv[i], "--budget") && i + 1 < argc)
      budget = (gsize) atoi (argv[++i]) << 20;
    else if (!g_strcmp0 (argv[i], "--cores") && i + 1 < argc)
      cores = atoi (argv[++i]);
    else if (!g_strcmp0 (argv[i], "--json"))
      json = TRUE;
    else if (!g_strcmp0 (argv[i], "--threads") && i + 1 < argc)
      {
        i++;
        for (threads = 0; threads < 3 && g_strcmp0 (argv[i], thread_names[threads]); threads++)
          ;
        if (threads == 3)
          {
            fprintf (stderr, "bench-distance: --threads takes one, images or split\n");
            return 1;
          }
      }
    else if (!g_strcmp0 (argv[i], "--help"))
      {
        printf ("bench-distance [--runs N] [--budget MIB] [--threads one|images|split] "
                "[--cores N] [--json] "
                "[MODEL] [SIZE...]\n");
        return 0;
      }
    else if (g_ascii_isdigit (argv[i][0]) && n_sizes < 16)
      sizes[n_sizes++] = atoi (argv[i]);
    else
      path = argv[i];
  if (!n_sizes)
    {
      sizes[0] = 64, sizes[1] = 256, sizes[2] = 1024;
      n_sizes = 3;
    }

  /* The kernels and the installed models as the front ends find them; the
   * threads allowed as the command line reads them.
   */
  perceptual_settings_init ();
  {
    const char *env = g_getenv ("BLIS_NUM_THREADS");

    if (!env)
      env = g_getenv ("OMP_NUM_THREADS");
    allowed = env && atoi (env) > 0 ? atoi (env) : (int) g_get_num_processors ();
    if (cores > 0)
      allowed = cores;
  }
  if (!path)
    path = found = perc_model_locate ("squeeze", PERC_CALIBRATION_LPIPS_V0_1,
                                      perceptual_settings_weights_dirs (), &error);
  model = path ? perc_model_load (path, perceptual_settings_microkernel (), &error) : NULL;
  if (!model)
    {
      fprintf (stderr, "bench-distance: %s\n", error->message);
      return 1;
    }

  blis = perc_microkernel_describe (&model->microkernel);
  if (!json)
    {
      printf ("model: %s (%s, %s)\n%s\n", path, model->net->name,
              perc_calibration_name (model->calibration), blis);
      printf ("%-11s %12s %14s %12s %8s %7s %10s\n", "size", "scalar (s)", "+ spatial (s)",
              "distance", "tile", "threads", "RSS (MiB)");
    }
  for (int s = 0; s < n_sizes; s++)
    {
      int           n = sizes[s];
      double        t_scalar, t_spatial, dist;
      struct rusage usage;
      PercThreads   mode = threads >= 0 ? (PercThreads) threads
                                        : perc_tiled_threads (model, n, n, budget, allowed);
      int           tile = perc_tiled_tile_size (model, n, n, budget, mode, allowed, NULL);
      PercTiler    *tiler = perc_tiler_new (model);

      /* One workspace for the runs of a size, as a batch would. */
      Images        images = { n, { NULL, NULL } };

      for (int k = 0; n <= STORED_MAX && k < 2; k++)
        {
          images.rgb[k] = g_new (float, (gsize) n * n * 3);
          make_region (k, &(PercRect) { 0, 0, n, n }, images.rgb[k], NULL, NULL);
        }
      t_scalar = best_time (tiler, &images, n, FALSE, budget, runs, mode, &dist);
      t_spatial = best_time (tiler, &images, n, TRUE, budget, runs, mode, &dist);
      g_free (images.rgb[0]);
      g_free (images.rgb[1]);
      perc_tiler_free (tiler);
      getrusage (RUSAGE_SELF, &usage);
      if (json)
        printf ("{\"network\": \"%s\", \"size\": %d, \"scalar_s\": %.6f, "
                "\"spatial_s\": %.6f, \"distance\": %.9g, \"tile\": %d, \"peak_rss_mib\": %.1f, "
                "\"threads\": \"%s\", \"blis\": \"%s\"}\n", model->net->name, n, t_scalar,
                t_spatial, dist, tile, usage.ru_maxrss / 1024.0,
                thread_names[mode], blis);
      else
        printf ("%4dx%-6d %12.4f %14.4f %12.6f %8d %7s %10.1f\n", n, n, t_scalar, t_spatial,
                dist, tile, thread_names[mode], usage.ru_maxrss / 1024.0);
      fflush (stdout);
    }
  g_free (blis);
  g_free (found);
  perc_model_free (model);
  return 0;
}
