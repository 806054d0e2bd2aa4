/* Two images through one network in lockstep, op by op: each pair of taps
 * goes to the caller as soon as both images have it, so that no tap
 * outlives its reduction, and every buffer's memory is reused once
 * nothing reads it any more (perc-arena.h).  This is what lets tiles be
 * large within a memory budget.
 */
#ifndef PERC_PAIR_H
#define PERC_PAIR_H

#include <glib.h>

#include "run/perc-features.h"

G_BEGIN_DECLS

/* Receives layer l of both images: raw features, NCHW of `shape`.  They
 * are valid only during the call.
 */
typedef void (*PercTapPair) (int              l,
                             const PercShape *shape,
                             const float     *a,
                             const float     *b,
                             gpointer         data);

/* Receives layer l of image k (0 or 1) alone, before the layer's
 * PercTapPair, in the thread that completed it: each image's own share of
 * a reduction.
 */
typedef void (*PercTapImage) (int              l,
                              int              k,
                              const PercShape *shape,
                              const float     *features,
                              gpointer         data);

/* Told, in the calling thread, that layer l's PercTapPair has returned. */
typedef void (*PercTapDone) (int              l,
                             gpointer         data);

/* How the work uses threads.  In one, each op runs on both images, in
 * one product where its outputs are narrower than a panel (then both
 * images' buffers of every op are live together).  The images side by
 * side run apart in two, with no hand-over until the end, but each keeps
 * its taps until then; split, every op's output is shared between any
 * number, which needs no more memory than one thread (but scratch per
 * thread) and a hand-over per op: each thread's part of both images at
 * once where some layer spans them, as in one thread.
 */
typedef enum
{
  PERC_THREADS_ONE,       /* one thread */
  PERC_THREADS_IMAGES,    /* the two images in two threads */
  PERC_THREADS_SPLIT      /* every op shared between n threads */
} PercThreads;

#define PERC_MAX_THREADS 64

/* The threads `threads` uses when the caller allows n_threads (only
 * split takes more than two; it takes at least two).
 */
int       perc_threads_count (PercThreads threads,
                              int         n_threads);

typedef struct _PercPair PercPair;

PercPair *perc_pair_new   (const PercModel *model);
void      perc_pair_free  (PercPair        *pair);

/* Runs images a and b (of the same size) through the network, handing
 * every tap pair to `reduce` in the order the network computes them, one
 * at a time, and telling `done` after each; `image` (or NULL) has each
 * image's tap first.  With the images side by side, `image` runs in the
 * image's thread and `reduce` in whichever thread has the second image's
 * tap, while the other goes on; else both in the calling thread.  `done` always
 * runs in the calling thread, and for every tap before this returns.
 * Fails as perc_extractor_run () does, before any work.
 */
gboolean  perc_pair_run   (PercPair        *pair,
                           const PercImage *a,
                           const PercImage *b,
                           gboolean         scaling,
                           PercThreads      threads,
                           int              n_threads,
                           PercTapImage     image,
                           PercTapPair      reduce,
                           PercTapDone      done,
                           gpointer         data,
                           GError         **error);

/* Bytes perc_pair_run () holds for two width x height images. */
gsize     perc_pair_bytes (const PercModel *model,
                           int              width,
                           int              height,
                           PercThreads      threads,
                           int              n_threads);

G_END_DECLS

#endif
