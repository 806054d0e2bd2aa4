/* Memory planning by liveness: blocks that are never needed at the same
 * time share memory.  A network's buffers are the blocks; their lifetimes
 * are the steps from the one that writes them first to the last that
 * reads them.
 */
#ifndef PERC_ARENA_H
#define PERC_ARENA_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gsize size;       /* in any unit; 0: needs no memory */
  int   first;      /* the steps it is live in, inclusive */
  int   last;
  gsize offset;     /* set by perc_arena_plan () */
} PercBlock;

/* Gives every block an offset such that two blocks whose lifetimes
 * overlap do not overlap in memory, the largest blocks placed first, each
 * at the lowest offset that fits.  Returns the arena's size: the largest
 * offset + size.
 */
gsize perc_arena_plan (PercBlock *blocks,
                       int        n);

G_END_DECLS

#endif
