/* The scores of LPIPS's two human-judgement tests, as published. */
#include "config.h"

#include <stdlib.h>

#include "cli.h"

double
cli_score_2afc (const double *d0,
                const double *d1,
                const double *p,
                gsize         n)
{
  double sum = 0.0;

  /* p: the fraction of people who judged p1 closer to the reference. */
  for (gsize i = 0; i < n; i++)
    sum += d1[i] < d0[i] ? p[i] : d0[i] < d1[i] ? 1.0 - p[i] : 0.5;
  return n ? sum / n : 0.0;
}

typedef struct
{
  double d;
  gsize  index;
} Ranked;

/* By distance; equal distances keep the files' order. */
static int
by_distance (const void *a,
             const void *b)
{
  const Ranked *x = a, *y = b;

  if (x->d != y->d)
    return x->d < y->d ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

double
cli_score_jnd (const double *d,
               const double *same,
               gsize         n)
{
  Ranked *r = g_new (Ranked, n);
  double *recall = g_new (double, n + 2), *precision = g_new (double, n + 2);
  double  total = 0.0, tp = 0.0, fp = 0.0, ap = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      r[i] = (Ranked) { d[i], i };
      total += same[i];
    }
  qsort (r, n, sizeof *r, by_distance);
  /* Pairs judged the same are the positives, with soft labels; the
   * curve runs from recall 0 to 1 with precision 0 at both ends.
   */
  recall[0] = precision[0] = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      tp += same[r[i].index];
      fp += 1.0 - same[r[i].index];
      recall[i + 1] = tp / total;
      precision[i + 1] = tp / (tp + fp);
    }
  recall[n + 1] = 1.0;
  precision[n + 1] = 0.0;
  /* VOC average precision, all points: the precision envelope times the
   * recall steps.
   */
  for (gsize i = n + 1; i > 0; i--)
    precision[i - 1] = MAX (precision[i - 1], precision[i]);
  for (gsize i = 0; i < n + 1; i++)
    if (recall[i + 1] != recall[i])
      ap += (recall[i + 1] - recall[i]) * precision[i + 1];
  g_free (r);
  g_free (recall);
  g_free (precision);
  return ap;
}
