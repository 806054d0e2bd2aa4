#include <math.h>
#include <string.h>

#include "ops/perc-difference.h"
#include "distance/perc-layer-stats.h"

/* Positions whose normalised vectors are multiplied at once. */
#define CHUNK 2048

void
perc_layer_stats_reset (PercLayerStats     *p,
                   PercLayerStatsKind  kind,
                   int             channels)
{
  gsize n = (gsize) channels * (kind == PERC_LAYER_STATS_STYLE ? channels : 1);

  for (int k = 0; k < 2; k++)
    {
      if (n > p->capacity)
        {
          g_free (p->sums[k]);
          p->sums[k] = g_new (double, n);
        }
      memset (p->sums[k], 0, n * sizeof (double));
      p->positions[k] = 0;
    }
  p->capacity = MAX (p->capacity, n);
  p->kind = kind;
  p->channels = channels;
}

void
perc_layer_stats_clear (PercLayerStats *p)
{
  g_free (p->sums[0]);
  g_free (p->sums[1]);
  g_free (p->scratch);
  memset (p, 0, sizeof *p);
}

/* The normalised feature vector at `offset` into column i of A (C x CHUNK). */
static void
gather (const PercLayerStats *p,
        const float      *f,
        gsize             plane,
        gsize             offset,
        int               i)
{
  double norm = 0.0;

  for (int k = 0; k < p->channels; k++)
    {
      double v = f[k * plane + offset];

      norm += v * v;
    }
  norm = 1.0 / (sqrt (norm) + PERC_NORM_EPSILON);
  for (int k = 0; k < p->channels; k++)
    p->scratch[(gsize) k * CHUNK + i] = f[k * plane + offset] * norm;
}

/* G += A A^T over the first `count` columns of A: each pair of channels
 * once (G is symmetric), in the calling thread.
 */
static void
flush (const PercLayerStats *p,
       double               *gram,
       int                   count)
{
  const int c = p->channels;

  for (int i = 0; i < c; i++)
    {
      const double *a = p->scratch + (gsize) i * CHUNK;

      for (int j = i; j < c; j++)
        {
          const double *b = p->scratch + (gsize) j * CHUNK;
          double        sum = 0.0;

          for (int k = 0; k < count; k++)
            sum += a[k] * b[k];
          gram[(gsize) i * c + j] += sum;
          if (j != i)
            gram[(gsize) j * c + i] += sum;
        }
    }
}

void
perc_layer_stats_add (PercLayerStats  *p,
                 int          which,
                 const float *f,
                 int          width,
                 int          height,
                 int          x0,
                 int          y0,
                 int          x1,
                 int          y1)
{
  gsize   plane = (gsize) width * height;
  double *sums = p->sums[which];

  if (x0 >= x1 || y0 >= y1)
    return;
  p->positions[which] += (gsize) (x1 - x0) * (y1 - y0);
  if (p->kind == PERC_LAYER_STATS_MEAN)
    {
      for (int k = 0; k < p->channels; k++)
        for (int y = y0; y < y1; y++)
          {
            const float *row = f + k * plane + (gsize) y * width;
            double       s = 0.0;

            for (int x = x0; x < x1; x++)
              s += row[x];
            sums[k] += s;
          }
      return;
    }
  if (p->scratch_size < (gsize) p->channels * CHUNK)
    {
      g_free (p->scratch);
      p->scratch_size = (gsize) p->channels * CHUNK;
      p->scratch = g_new (double, p->scratch_size);
    }
  for (int y = y0, i = 0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        gather (p, f, plane, (gsize) y * width + x, i++);
        if (i == CHUNK || (y == y1 - 1 && x == x1 - 1))
          {
            flush (p, sums, i);
            i = 0;
          }
      }
}

double
perc_layer_stats_term (const PercLayerStats *p)
{
  int    c = p->channels;
  double term = 0.0;

  if (p->kind == PERC_LAYER_STATS_MEAN)
    {
      double norm[2] = { 0.0, 0.0 };

      for (int k = 0; k < 2; k++)
        {
          for (int i = 0; i < c; i++)
            {
              double m = p->sums[k][i] / p->positions[k];

              norm[k] += m * m;
            }
          norm[k] = 1.0 / (sqrt (norm[k]) + PERC_NORM_EPSILON);
        }
      for (int i = 0; i < c; i++)
        {
          double d = p->sums[0][i] / p->positions[0] * norm[0] -
                     p->sums[1][i] / p->positions[1] * norm[1];

          term += d * d;
        }
      return term / c;
    }
  for (gsize i = 0; i < (gsize) c * c; i++)
    {
      double d = p->sums[0][i] / p->positions[0] - p->sums[1][i] / p->positions[1];

      term += d * d;
    }
  return term / ((double) c * c);
}
