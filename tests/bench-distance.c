/* Times one SqueezeNet (or another network's) LPIPS distance, scalar and
 * spatial map, at a few sizes; prints which BLIS kernels ran.
 *
 *   bench-distance [--runs N] [--json] [MODEL.safetensors] [SIZE...]
 *
 * Without a model file the installed squeeze lpips-v0.1 model is used.
 * Weights do not change the time, so a synthetic model is fine.  With
 * --json, one JSON object per size (times in seconds, the peak resident
 * memory of the process so far in MiB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "perc-blis.h"
#include "perc-compare.h"

static double
best_time (PercComparer *c, PercImage *a, PercImage *b, gboolean spatial,
           float *map, int runs, double *distance)
{
  PercDistance d = { 0 };
  double       best = G_MAXDOUBLE;
  GError      *error = NULL;

  for (int r = 0; r < runs + 1; r++)     /* the first run warms up */
    {
      gint64 t0 = g_get_monotonic_time ();

      if (!perc_comparer_run (c, PERC_CALIBRATION_LPIPS_V0_1, a, b, &d, &error))
        {
          fprintf (stderr, "bench-distance: %s\n", error->message);
          exit (1);
        }
      if (spatial)
        perc_distance_spatial (&d, a->width, a->height, map);
      if (r > 0)
        best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
    }
  *distance = d.distance;
  perc_distance_clear (&d);
  return best;
}

int
main (int argc, char **argv)
{
  int         sizes[16] = { 64, 256, 1024 }, n_sizes = 3, runs = 3;
  gboolean    json = FALSE;
  const char *path = NULL;
  char       *found = NULL, *blis;
  PercModel  *model;
  GError     *error = NULL;

  for (int i = 1; i < argc; i++)
    if (!g_strcmp0 (argv[i], "--runs") && i + 1 < argc)
      runs = atoi (argv[++i]);
    else if (!g_strcmp0 (argv[i], "--json"))
      json = TRUE;
    else if (g_ascii_isdigit (argv[i][0]))
      {
        if (n_sizes == 3 && sizes[2] == 1024 && i > 0 && sizes[0] == 64)
          n_sizes = 0;
        if (n_sizes < 16)
          sizes[n_sizes++] = atoi (argv[i]);
      }
    else
      path = argv[i];

  perc_blis_configure ();
  if (!path)
    path = found = perc_model_locate ("squeeze", PERC_CALIBRATION_LPIPS_V0_1, NULL, &error);
  model = path ? perc_model_load (path, &error) : NULL;
  if (!model)
    {
      fprintf (stderr, "bench-distance: %s\n", error->message);
      return 1;
    }

  blis = perc_blis_describe ();
  if (!json)
    {
      printf ("model: %s (%s, %s)\n%s\n", path, model->net->name,
              perc_calibration_name (model->calibration), blis);
      printf ("%-11s %12s %14s %12s\n", "size", "scalar (s)", "+ spatial (s)", "distance");
    }
  for (int s = 0; s < n_sizes; s++)
    {
      int           n = sizes[s];
      float        *x = g_new (float, (gsize) n * n * 3), *y = g_new (float, (gsize) n * n * 3);
      float        *map = g_new (float, (gsize) n * n);
      PercImage     a = { n, n, 3 * n, x }, b = { n, n, 3 * n, y };
      PercComparer *c = perc_comparer_new (model);
      GRand        *rand = g_rand_new_with_seed (n);
      double        t_scalar, t_spatial, dist;

      for (gsize i = 0; i < (gsize) n * n * 3; i++)
        {
          x[i] = g_rand_double (rand);
          y[i] = CLAMP (x[i] + g_rand_double_range (rand, -0.1, 0.1), 0, 1);
        }
      t_scalar = best_time (c, &a, &b, FALSE, map, runs, &dist);
      t_spatial = best_time (c, &a, &b, TRUE, map, runs, &dist);
      if (json)
        {
          struct rusage usage;

          getrusage (RUSAGE_SELF, &usage);
          printf ("{\"network\": \"%s\", \"size\": %d, \"scalar_s\": %.6f, "
                  "\"spatial_s\": %.6f, \"distance\": %.9g, \"peak_rss_mib\": %.1f, "
                  "\"blis\": \"%s\"}\n", model->net->name, n, t_scalar, t_spatial, dist,
                  usage.ru_maxrss / 1024.0, blis);
        }
      else
        printf ("%4dx%-6d %12.4f %14.4f %12.6f\n", n, n, t_scalar, t_spatial, dist);
      fflush (stdout);
      perc_comparer_free (c);
      g_rand_free (rand);
      g_free (x);
      g_free (y);
      g_free (map);
    }
  g_free (blis);
  g_free (found);
  perc_model_free (model);
  return 0;
}
