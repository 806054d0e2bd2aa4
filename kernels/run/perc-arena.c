/* First fit, largest first: the usual heuristic for static memory plans;
 * with a network's few dozen buffers it stays within a few percent of the
 * largest sum of blocks live at one step (the lower bound).
 */
#include <stdlib.h>

#include "run/perc-arena.h"

static int
by_size (const void *a,
         const void *b)
{
  const PercBlock *x = *(const PercBlock *const *) a, *y = *(const PercBlock *const *) b;

  if (x->size != y->size)
    return x->size < y->size ? 1 : -1;
  return x->first - y->first;
}

static int
by_offset (const void *a,
           const void *b)
{
  const PercBlock *x = *(const PercBlock *const *) a, *y = *(const PercBlock *const *) b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

gsize
perc_arena_plan (PercBlock *blocks,
                 int        n)
{
  PercBlock **order = g_new (PercBlock *, n);
  PercBlock **live = g_new (PercBlock *, n);
  gsize       total = 0;

  for (int i = 0; i < n; i++)
    order[i] = &blocks[i];
  qsort (order, n, sizeof *order, by_size);

  for (int i = 0; i < n; i++)
    {
      PercBlock *b = order[i];
      gsize      offset = 0;
      int        m = 0;

      /* The placed blocks live at the same time, by offset; take the
       * first gap that holds b.
       */
      for (int j = 0; j < i; j++)
        if (order[j]->size && order[j]->first <= b->last && b->first <= order[j]->last)
          live[m++] = order[j];
      qsort (live, m, sizeof *live, by_offset);
      for (int j = 0; j < m && b->size; j++)
        {
          if (live[j]->offset >= offset + b->size)
            break;
          offset = MAX (offset, live[j]->offset + live[j]->size);
        }
      b->offset = offset;
      total = MAX (total, offset + b->size);
    }
  g_free (order);
  g_free (live);
  return total;
}
