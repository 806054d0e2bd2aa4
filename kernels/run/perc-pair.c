/* In lockstep (one thread, or split ops) the schedule is a sequence of
 * steps: step 0 writes both inputs; op i runs for image k at step
 * 3 i + 1 + k (for both at 3 i + 1 where some op spans the images) and
 * the taps it completes are reduced at step 3 i + 3.  A buffer lives from
 * the first op that writes it to the last step that reads it.  Images side by side run on their own, without a hand-over
 * per op: each has its own part of the arena, and keeps its taps to the
 * end; a tap is reduced by the thread that completes it second, while the
 * other goes on.
 */
#include "run/perc-arena.h"
#include "perc-error.h"
#include "run/perc-pair.h"

/* Planes start on 64-byte boundaries. */
#define ALIGN_FLOATS 16

/* A job's active helpers in its low byte; the last job. */
#define JOB_ACTIVE(job) ((int) ((job) & 0xff))
#define QUIT            0xffu

/* How long a thread waiting for a hand-over spins before it sleeps:
 * waking a sleeping thread takes longer than most ops at 64 x 64 (about
 * 80 us a hand-over, measured, against 20 us for one of SqueezeNet's ops).
 */
#define SPIN_US 200

/* What a job asks of helpers: ops [first, end); or, of image 1 alone
 * while the caller does image 0's (image_job ()), its check and input,
 * or its share of the taps op `first` completes.
 */
typedef enum
{
  JOB_OPS,
  JOB_PREPARE,
  JOB_TAPS
} JobKind;

typedef struct
{
  PercPair *pair;
  int       index;                   /* helper i runs part i + 1 */
  guint     seen;                    /* the last job it saw */
} Helper;

struct _PercPair
{
  const PercModel *model;
  int              n_buffers;
  PercShape       *shapes;       /* per buffer, for the current input */
  int              tap_op[PERC_MAX_TAPS];  /* the op that completes each tap */
  int              order[PERC_MAX_TAPS];   /* the taps in the order ops complete them */
  PercBlock       *blocks;       /* per image and buffer */
  float          **views[2];     /* per image and buffer */
  float           *arena;
  gsize            arena_capacity;
  float           *scratch[PERC_MAX_THREADS];   /* per thread */
  gsize            scratch_capacity[PERC_MAX_THREADS];

  /* The helper threads, started when first needed, run jobs (`kind`): ops
   * [first, end) of image `image`, helper i part i + 1 of `parts` (split)
   * or helper 0 all of each (the images apart).  `job` (atomic) is the
   * jobs posted so far times 256 plus the helpers the current one needs
   * (the others sit it out), or QUIT; `left` (atomic) counts those not
   * yet done.  They stay as long as the workspace.
   */
  GThread         *threads[PERC_MAX_THREADS - 1];
  Helper           helpers[PERC_MAX_THREADS - 1];
  int              n_helpers;
  GMutex           lock;
  GCond            cond;
  int              sleepers;     /* threads waiting on cond (atomic) */
  guint            job;
  guint            left;
  JobKind          kind;
  int              first, end, image, parts;
  gboolean         joint;        /* the run's ops take both images at once */
  const PercImage *images[2];    /* the run's */
  gboolean         scaling;
  gboolean         helped;       /* what image 1's image_job () returned */

  /* The current run's reductions (side by side, under the lock): ops
   * finished per image, taps reduced so far (of `order`), whether a
   * thread is reducing one.
   */
  PercTapImage     tap_image;
  PercTapPair      reduce;
  gpointer         data;
  int              finished[2];
  int              reduced;
  gboolean         reducing;
};

int
perc_threads_count (PercThreads threads,
                    int         n_threads)
{
  return threads == PERC_THREADS_ONE ? 1 :
         threads == PERC_THREADS_IMAGES ? 2 : CLAMP (n_threads, 2, PERC_MAX_THREADS);
}

/* Whether an op's products span both images (run_op ()): then both
 * images' buffers of each op are live together.
 */
static gboolean
spanning (const PercModel *model,
          const PercShape *shapes)
{
  for (int i = 0; i < model->net->n_ops; i++)
    if (perc_network_op_spans (model, i, shapes))
      return TRUE;
  return FALSE;
}

/* Lifetimes and offsets of both images' buffers, with both images' live
 * together where `joint` (some op spans them, spanning ()); returns the
 * arena's size in floats.
 */
static gsize
plan (const PercModel *model,
      const PercShape *shapes,
      PercThreads      threads,
      gboolean         joint,
      PercBlock       *blocks)
{
  const PercNet *net = model->net;
  int            nb = net->n_buffers;
  gboolean       apart = threads == PERC_THREADS_IMAGES;
  gboolean       together = apart || joint;
  gsize          size, second;

  for (int k = 0; k < 2; k++)
    for (int b = 0; b < nb; b++)
      {
        PercBlock *block = &blocks[k * nb + b];
        gsize      n = (gsize) shapes[b].c * shapes[b].h * shapes[b].w;
        int        first = b == 0 ? 0 : G_MAXINT, last = 0, made = -1;

        for (int i = 0; i < net->n_ops; i++)
          {
            const PercOp *op = &net->ops[i];
            int           t = 3 * i + 1 + (together ? 0 : k);

            if (op->dst == b)
              {
                first = MIN (first, t);
                last = MAX (last, t);
                made = i;
              }
            if (op->src == b || (op->kind == PERC_OP_ADD && op->src2 == b))
              last = MAX (last, t);
          }
        for (int l = 0; l < net->n_taps; l++)
          if (net->taps[l] == b && made >= 0)
            last = MAX (last, apart ? 3 * net->n_ops : 3 * made + 3);
        *block = (PercBlock) { (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS,
                               MIN (first, last), last, 0 };
      }
  if (!apart)
    return perc_arena_plan (blocks, 2 * nb);
  size = perc_arena_plan (blocks, nb);
  second = perc_arena_plan (blocks + nb, nb);
  for (int b = nb; b < 2 * nb; b++)
    blocks[b].offset += size;
  return size + second;
}

gsize
perc_pair_bytes (const PercModel *model,
                 int              width,
                 int              height,
                 PercThreads      threads,
                 int              n_threads)
{
  const PercNet *net = model->net;
  PercShape     *shapes = g_new (PercShape, net->n_buffers);
  PercBlock     *blocks = g_new (PercBlock, 2 * net->n_buffers);
  gsize          n = 0;

  if (perc_net_shapes (net, width, height, shapes))
    n = plan (model, shapes, threads, spanning (model, shapes), blocks) +
        perc_network_scratch (model, shapes) * perc_threads_count (threads, n_threads);
  g_free (shapes);
  g_free (blocks);
  return n * sizeof (float);
}

PercPair *
perc_pair_new (const PercModel *model)
{
  PercPair *p = g_new0 (PercPair, 1);

  p->model = model;
  p->n_buffers = model->net->n_buffers;
  p->shapes = g_new0 (PercShape, p->n_buffers);
  p->blocks = g_new0 (PercBlock, 2 * p->n_buffers);
  p->views[0] = g_new0 (float *, p->n_buffers);
  p->views[1] = g_new0 (float *, p->n_buffers);
  for (int l = 0; l < model->net->n_taps; l++)
    for (int i = 0; i < model->net->n_ops; i++)
      if (model->net->ops[i].dst == model->net->taps[l])
        p->tap_op[l] = i;
  for (int i = 0, n = 0; i < model->net->n_ops; i++)
    for (int l = 0; l < model->net->n_taps; l++)
      if (p->tap_op[l] == i)
        p->order[n++] = l;
  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  return p;
}

/* Wakes the threads asleep in await (). */
static void
wake (PercPair *p)
{
  if (g_atomic_int_get (&p->sleepers) > 0)
    {
      g_mutex_lock (&p->lock);
      g_cond_broadcast (&p->cond);
      g_mutex_unlock (&p->lock);
    }
}

/* Waits until *word is `value` (reach) or is no longer it (!reach):
 * spinning for SPIN_US, then asleep until wake ().  Whoever changes
 * *word then calls wake (); a sleeper counts itself before it looks, the
 * waker changes before it looks for sleepers, so one sees the other.
 */
static void
await (PercPair *p,
       guint    *word,
       guint     value,
       gboolean  reach)
{
  gint64 until = g_get_monotonic_time () + SPIN_US;

  for (int n = 1; ((guint) g_atomic_int_get (word) == value) != reach; n++)
    {
#if defined (__x86_64__) || defined (__i386__)
      __builtin_ia32_pause ();
#endif
      if (n % 64 == 0 && g_get_monotonic_time () > until)
        {
          g_mutex_lock (&p->lock);
          g_atomic_int_inc (&p->sleepers);
          while (((guint) g_atomic_int_get (word) == value) != reach)
            g_cond_wait (&p->cond, &p->lock);
          g_atomic_int_add (&p->sleepers, -1);
          g_mutex_unlock (&p->lock);
          return;
        }
    }
}

void
perc_pair_free (PercPair *p)
{
  if (!p)
    return;
  g_atomic_int_set (&p->job, QUIT);
  wake (p);
  for (int h = 0; h < p->n_helpers; h++)
    g_thread_join (p->threads[h]);
  g_free (p->shapes);
  g_free (p->blocks);
  g_free (p->views[0]);
  g_free (p->views[1]);
  g_free (p->arena);
  for (int t = 0; t < PERC_MAX_THREADS; t++)
    g_free (p->scratch[t]);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->cond);
  g_free (p);
}

static gboolean
completes_taps (const PercPair *p,
                int             i)
{
  for (int l = 0; l < p->model->net->n_taps; l++)
    if (p->tap_op[l] == i)
      return TRUE;
  return FALSE;
}

/* The taps op i completes, of image k alone. */
static void
tap_images (PercPair *p,
            int       k,
            int       i)
{
  const PercNet *net = p->model->net;

  if (p->tap_image)
    for (int l = 0; l < net->n_taps; l++)
      if (p->tap_op[l] == i)
        p->tap_image (l, k, &p->shapes[net->taps[l]], p->views[k][net->taps[l]], p->data);
}

/* Image k has finished ops [0, i]: reduces, one at a time, the taps both
 * images now have, unless another thread is at it (it goes on with
 * these).
 */
static void
reduce_ready (PercPair *p,
              int       k,
              int       i)
{
  const PercNet *net = p->model->net;

  g_mutex_lock (&p->lock);
  p->finished[k] = i + 1;
  while (!p->reducing && p->reduced < net->n_taps &&
         p->tap_op[p->order[p->reduced]] < MIN (p->finished[0], p->finished[1]))
    {
      int l = p->order[p->reduced], b = net->taps[l];

      p->reducing = TRUE;
      g_mutex_unlock (&p->lock);
      p->reduce (l, &p->shapes[b], p->views[0][b], p->views[1][b], p->data);
      g_mutex_lock (&p->lock);
      p->reduced++;
      p->reducing = FALSE;
    }
  g_mutex_unlock (&p->lock);
}

/* Checks that image k is finite, and makes it the network's input. */
static gboolean
prepare (PercPair *p,
         int       k,
         GError  **error)
{
  if (!perc_image_check (p->images[k], error))
    return FALSE;
  perc_image_to_input (p->images[k], p->scaling, p->views[k][0]);
  return TRUE;
}

/* Image k's part of a job other than ops, for op i. */
static gboolean
image_job (PercPair *p,
           JobKind   kind,
           int       k,
           int       i,
           GError  **error)
{
  if (kind == JOB_PREPARE)
    return prepare (p, k, error);
  tap_images (p, k, i);
  return TRUE;
}

/* Part `part` of `parts` of op i of image k, or of both images (k < 0)
 * in the products that span them.
 */
static void
run_part (PercPair *p,
          int       i,
          int       k,
          int       part,
          int       parts)
{
  if (k < 0)
    perc_network_op_images (p->model, i, p->shapes, (float *const *const *) p->views, 2,
                            p->scratch[part], part, parts);
  else
    perc_network_op (p->model, i, p->shapes, p->views[k], p->scratch[part], part, parts);
}

static gpointer
helper (gpointer data)
{
  Helper   *h = data;
  PercPair *p = h->pair;

  for (;;)
    {
      guint job;

      await (p, &p->job, h->seen, FALSE);
      h->seen = job = g_atomic_int_get (&p->job);
      if (job == QUIT)
        break;
      /* The job's fields stay until the active helpers are done. */
      if (h->index >= JOB_ACTIVE (job))
        continue;
      if (p->kind != JOB_OPS)
        p->helped = image_job (p, p->kind, 1, p->first, NULL);
      for (int i = p->first; i < p->end; i++)
        if (p->parts == 1)
          {
            /* Alone on an image: the images side by side. */
            perc_network_op (p->model, i, p->shapes, p->views[p->image],
                             p->scratch[h->index + 1], 0, 1);
            tap_images (p, p->image, i);
            reduce_ready (p, p->image, i);
          }
        else
          run_part (p, i, p->image, h->index + 1, p->parts);
      if (g_atomic_int_dec_and_test (&p->left))
        wake (p);
    }
  return NULL;
}

/* A job for `active` helpers; the caller takes part 0. */
static void
post (PercPair *p,
      JobKind   kind,
      int       first,
      int       end,
      int       image,
      int       parts,
      int       active)
{
  p->kind = kind;
  p->first = first;
  p->end = end;
  p->image = image;
  p->parts = parts;
  g_atomic_int_set (&p->left, active);
  g_atomic_int_set (&p->job, ((g_atomic_int_get (&p->job) >> 8) + 1) << 8 | active);
  wake (p);
}

static void
wait_done (PercPair *p)
{
  await (p, &p->left, 0, TRUE);
}

/* Both images' image_job () for op i, image 1's by the first helper where
 * there is one; FALSE if either fails (image 0's error first).
 */
static gboolean
both_images (PercPair *p,
             JobKind   kind,
             int       i,
             int       n_threads,
             GError  **error)
{
  gboolean ok;

  if (n_threads == 1)
    return image_job (p, kind, 0, i, error) && image_job (p, kind, 1, i, error);
  post (p, kind, i, i, 1, 1, 1);
  ok = image_job (p, kind, 0, i, error);
  wait_done (p);
  return ok && (p->helped || image_job (p, kind, 1, i, error));
}

/* Op i of both images, in lockstep, split between n threads (or in one):
 * both images at once where some op spans them (the plan then has both
 * images' buffers live), in one product where this op does; else image
 * 1's after image 0's, as the plan lets it reuse memory image 0's has
 * just read.
 */
static void
run_op (PercPair *p,
        int       i,
        int       n)
{
  int jobs = p->joint ? 1 : 2;

  for (int k = 0; k < jobs; k++)
    {
      int image = jobs == 1 ? -1 : k;

      if (n > 1)
        post (p, JOB_OPS, i, i + 1, image, n, n - 1);
      run_part (p, i, image, 0, n);
      if (n > 1)
        wait_done (p);
    }
}

gboolean
perc_pair_run (PercPair        *p,
               const PercImage *a,
               const PercImage *b,
               gboolean         scaling,
               PercThreads      threads,
               int              n_threads,
               PercTapImage     image,
               PercTapPair      reduce,
               PercTapDone      done,
               gpointer         data,
               GError         **error)
{
  const PercModel *model = p->model;
  const PercNet   *net = model->net;
  gsize            scratch;

  g_return_val_if_fail (a->width == b->width && a->height == b->height, FALSE);
  if (!perc_model_check_size (model, a->width, a->height, error))
    return FALSE;

  perc_net_shapes (net, a->width, a->height, p->shapes);
  p->joint = spanning (model, p->shapes);
  perc_reserve (&p->arena, &p->arena_capacity,
                plan (model, p->shapes, threads, p->joint, p->blocks));
  scratch = MAX (perc_network_scratch (model, p->shapes), 1);
  n_threads = perc_threads_count (threads, n_threads);
  for (int k = 0; k < n_threads; k++)
    perc_reserve (&p->scratch[k], &p->scratch_capacity[k], scratch);
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < p->n_buffers; i++)
      p->views[k][i] = p->arena + p->blocks[k * p->n_buffers + i].offset;

  for (; p->n_helpers < n_threads - 1; p->n_helpers++)
    {
      p->helpers[p->n_helpers] = (Helper) { p, p->n_helpers, p->job };
      p->threads[p->n_helpers] = g_thread_new ("perceptual-op", helper,
                                               &p->helpers[p->n_helpers]);
    }
  p->images[0] = a;
  p->images[1] = b;
  p->scaling = scaling;
  p->tap_image = image;
  p->reduce = reduce;
  p->data = data;
  /* Either image failing, before any op. */
  if (!both_images (p, JOB_PREPARE, 0, n_threads, error))
    return FALSE;
  if (threads == PERC_THREADS_IMAGES)
    {
      int delivered = 0, reduced;

      p->finished[0] = p->finished[1] = 0;
      p->reduced = 0;
      post (p, JOB_OPS, 0, net->n_ops, 1, 1, 1);
      for (int i = 0; i < net->n_ops; i++)
        {
          perc_network_op (model, i, p->shapes, p->views[0], p->scratch[0], 0, 1);
          tap_images (p, 0, i);
          reduce_ready (p, 0, i);
          g_mutex_lock (&p->lock);
          reduced = p->reduced;
          g_mutex_unlock (&p->lock);
          for (; delivered < reduced; delivered++)
            done (p->order[delivered], data);
        }
      /* The helper has stopped: what it left is the caller's. */
      wait_done (p);
      reduce_ready (p, 0, net->n_ops - 1);
      for (; delivered < net->n_taps; delivered++)
        done (p->order[delivered], data);
      return TRUE;
    }
  for (int i = 0; i < net->n_ops; i++)
    {
      run_op (p, i, n_threads);
      /* The taps this op completes (no later op writes them), each
       * image's own share first.
       */
      if (p->tap_image && completes_taps (p, i))
        both_images (p, JOB_TAPS, i, n_threads, NULL);
      for (int l = 0; l < net->n_taps; l++)
        if (p->tap_op[l] == i)
          {
            reduce (l, &p->shapes[net->taps[l]], p->views[0][net->taps[l]],
                    p->views[1][net->taps[l]], data);
            done (l, data);
          }
    }
  return TRUE;
}
