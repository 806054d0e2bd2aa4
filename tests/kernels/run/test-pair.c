/* The pair runner (perc-pair.h): one thread, the two images in two
 * threads and every op split between two threads hand the callback the
 * same taps, bit for bit, in the same order, one at a time, each told
 * done in the calling thread; the same as the extractor computes for each
 * image alone.  For a SqueezeNet, an AlexNet and ResNets (basic and
 * bottleneck blocks) at an odd small size and at one where the first
 * convolutions are large enough to be split; one runner reused across
 * sizes and ways; bad input refused before any work.  Shared between
 * threads, every op is split evenly (each thread's share of the
 * multiply-adds) and each part writes exactly its own outputs.  Images in
 * lockstep through extractors have the features each has alone.
 */
#include <math.h>
#include <string.h>

#include "perc-error.h"
#include "run/perc-pair.h"
#include "support/test-core.h"
#include "support/test-util.h"

static const char *tmpdir;

static const char *const thread_names[] = {
  [PERC_THREADS_ONE] = "one thread",
  [PERC_THREADS_IMAGES] = "images in two threads",
  [PERC_THREADS_SPLIT] = "split ops",
};

/* What the callback was handed, call by call. */
typedef struct
{
  GThread   *caller;
  gint       reducing;             /* atomic: a reduction is running */
  int        calls;
  int        done;                 /* taps told done, in the caller */
  int        layer[PERC_MAX_TAPS];
  PercShape  shape[PERC_MAX_TAPS];
  float     *data[PERC_MAX_TAPS][2];
  /* Per layer and image, what the image's own callback was handed. */
  const float *image[PERC_MAX_TAPS][2];
} Taps;

/* Each image's tap once, before the pair's, in any of the threads. */
static void
record_image (int              l,
              int              k,
              const PercShape *shape,
              const float     *features,
              gpointer         data)
{
  Taps *t = data;

  g_assert_cmpint (shape->c, >, 0);
  g_assert_null (t->image[l][k]);
  t->image[l][k] = features;
}

static void
record (int              l,
        const PercShape *shape,
        const float     *a,
        const float     *b,
        gpointer         data)
{
  Taps *t = data;
  gsize n = (gsize) shape->c * shape->h * shape->w;

  /* One at a time, in any of the runner's threads. */
  g_assert_true (g_atomic_int_compare_and_exchange (&t->reducing, 0, 1));
  g_assert_cmpint (t->calls, <, PERC_MAX_TAPS);
  g_assert_true (t->image[l][0] == a && t->image[l][1] == b);
  t->layer[t->calls] = l;
  t->shape[t->calls] = *shape;
  t->data[t->calls][0] = g_memdup2 (a, n * sizeof (float));
  t->data[t->calls][1] = g_memdup2 (b, n * sizeof (float));
  t->calls++;
  g_atomic_int_set (&t->reducing, 0);
}

/* In the caller, after the tap's reduction, in the same order. */
static void
recorded (int      l,
          gpointer data)
{
  Taps *t = data;

  g_assert_true (g_thread_self () == t->caller);
  g_assert_cmpint (t->done, <, g_atomic_int_get (&t->calls));
  g_assert_cmpint (t->layer[t->done], ==, l);
  t->done++;
}

static void
taps_clear (Taps *t)
{
  for (int i = 0; i < t->calls; i++)
    {
      g_free (t->data[i][0]);
      g_free (t->data[i][1]);
    }
  memset (t, 0, sizeof *t);
}

static float *
make_image (int w, int h, guint32 seed)
{
  float *rgb = g_new (float, (gsize) w * h * 3);
  GRand *r = g_rand_new_with_seed (seed);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        rgb[((gsize) y * w + x) * 3 + c] =
          CLAMP (0.5f + 0.35f * sinf (x * 0.13f + 2 * c + seed) * cosf (y * 0.09f - c) +
                 0.15f * g_rand_double (r), 0, 1);
  g_rand_free (r);
  return rgb;
}

static void
run (PercPair *pair, const PercImage *a, const PercImage *b, gboolean scaling,
     PercThreads threads, int n_threads, Taps *t)
{
  GError *error = NULL;

  taps_clear (t);
  t->caller = g_thread_self ();
  g_assert_true (perc_pair_run (pair, a, b, scaling, threads, n_threads, record_image, record,
                                recorded, t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t->done, ==, t->calls);
}

static void
assert_same_taps (const Taps *got, const Taps *want, const char *what)
{
  g_assert_cmpint (got->calls, ==, want->calls);
  for (int i = 0; i < want->calls; i++)
    {
      const PercShape *s = &want->shape[i];
      gsize            bytes = (gsize) s->c * s->h * s->w * sizeof (float);

      g_assert_cmpint (got->layer[i], ==, want->layer[i]);
      g_assert_cmpint (got->shape[i].c, ==, s->c);
      g_assert_cmpint (got->shape[i].h, ==, s->h);
      g_assert_cmpint (got->shape[i].w, ==, s->w);
      for (int k = 0; k < 2; k++)
        if (memcmp (got->data[i][k], want->data[i][k], bytes))
          g_error ("%s: tap %d of image %d differs", what, want->layer[i], k);
    }
}

static void
check_model (const char *path, PercCalibration calibration, const int sizes[][2], int n_sizes)
{
  GError          *error = NULL;
  PercModel       *model = perc_model_load (path, test_microkernel (), &error);
  PercPair        *pair;
  PercExtractor   *extractor;
  PercFeatures    *features = perc_features_new ();
  gboolean         scaling = perc_calibration_scales (calibration);

  g_assert_no_error (error);
  pair = perc_pair_new (model);
  extractor = perc_extractor_new (model);
  for (int s = 0; s < n_sizes; s++)
    {
      int       w = sizes[s][0], h = sizes[s][1];
      float    *rgb[2] = { make_image (w, h, 1 + s), make_image (w, h, 7 + s) };
      PercImage a = { w, h, 3 * (gsize) w, rgb[0] }, b = { w, h, 3 * (gsize) w, rgb[1] };
      Taps      want = { 0 }, got = { 0 };
      /* One thread first, the others against it (split between 2 to 16
       * threads, fewer after more), one thread again last: the runner is
       * reused, its helper threads kept.
       */
      static const struct { PercThreads threads; int n; } order[] = {
        { PERC_THREADS_ONE, 1 }, { PERC_THREADS_IMAGES, 2 }, { PERC_THREADS_SPLIT, 2 },
        { PERC_THREADS_SPLIT, 3 }, { PERC_THREADS_SPLIT, 16 }, { PERC_THREADS_SPLIT, 5 },
        { PERC_THREADS_SPLIT, 8 }, { PERC_THREADS_SPLIT, 2 }, { PERC_THREADS_SPLIT, 7 },
        { PERC_THREADS_IMAGES, 2 }, { PERC_THREADS_ONE, 1 },
      };

      run (pair, &a, &b, scaling, PERC_THREADS_ONE, 1, &want);
      if (g_test_verbose ())
        g_printerr ("  %s %dx%d: %d taps; %.1f, %.1f, %.1f MiB\n", model->net->name, w, h,
                    want.calls,
                    perc_pair_bytes (model, w, h, PERC_THREADS_ONE, 1) / 1048576.0,
                    perc_pair_bytes (model, w, h, PERC_THREADS_IMAGES, 2) / 1048576.0,
                    perc_pair_bytes (model, w, h, PERC_THREADS_SPLIT, 2) / 1048576.0);

      /* Every tap once, in the order of the ops that complete them. */
      g_assert_cmpint (want.calls, ==, model->net->n_taps);
      for (int i = 0; i < want.calls; i++)
        for (int j = 0; j < i; j++)
          g_assert_cmpint (want.layer[i], !=, want.layer[j]);

      /* Each image alone through the extractor: the same features. */
      for (int k = 0; k < 2; k++)
        {
          g_assert_true (perc_extractor_run (extractor, k ? &b : &a, scaling, features, &error));
          g_assert_no_error (error);
          g_assert_cmpint (features->n_taps, ==, want.calls);
          for (int i = 0; i < want.calls; i++)
            {
              const PercShape *fs = &features->shapes[want.layer[i]];

              g_assert_cmpint (fs->c, ==, want.shape[i].c);
              g_assert_cmpint (fs->h, ==, want.shape[i].h);
              g_assert_cmpint (fs->w, ==, want.shape[i].w);
              g_assert_cmpmem (features->data[want.layer[i]],
                               (gsize) fs->c * fs->h * fs->w * sizeof (float),
                               want.data[i][k],
                               (gsize) fs->c * fs->h * fs->w * sizeof (float));
            }
        }

      for (guint o = 0; o < G_N_ELEMENTS (order); o++)
        {
          char *what = g_strdup_printf ("%s %dx%d, %s (%d)", model->net->name, w, h,
                                        thread_names[order[o].threads], order[o].n);

          run (pair, &a, &b, scaling, order[o].threads, order[o].n, &got);
          assert_same_taps (&got, &want, what);
          g_free (what);
        }
      /* A fresh runner, split from the start. */
      {
        PercPair *fresh = perc_pair_new (model);

        run (fresh, &a, &b, scaling, PERC_THREADS_SPLIT, 4, &got);
        assert_same_taps (&got, &want, "a fresh runner, split");
        perc_pair_free (fresh);
      }

      g_assert_cmpuint (perc_pair_bytes (model, w, h, PERC_THREADS_ONE, 1), >, 0);
      g_assert_cmpuint (perc_pair_bytes (model, w, h, PERC_THREADS_ONE, 1), <=,
                        perc_pair_bytes (model, w, h, PERC_THREADS_IMAGES, 2));
      g_assert_cmpuint (perc_pair_bytes (model, w, h, PERC_THREADS_SPLIT, 2), <,
                        perc_pair_bytes (model, w, h, PERC_THREADS_SPLIT, 8));
      taps_clear (&want);
      taps_clear (&got);
      g_free (rgb[0]);
      g_free (rgb[1]);
    }
  perc_features_free (features);
  perc_extractor_free (extractor);
  perc_pair_free (pair);
  perc_model_free (model);
}

static const int sizes[][2] = { { 67, 53 }, { 161, 127 } };

static void
test_squeeze (void)
{
  char *path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);

  check_model (path, PERC_CALIBRATION_LPIPS_V0_1, sizes, G_N_ELEMENTS (sizes));
  g_free (path);
}

static void
test_alex (void)
{
  char *path = synth_model (tmpdir, "alex", "lpips-v0.1", 5);

  check_model (path, PERC_CALIBRATION_LPIPS_V0_1, sizes, G_N_ELEMENTS (sizes));
  g_free (path);
}

static void
test_resnet (void)
{
  char *path = synth_resnet (tmpdir, "resnet18", NULL, NULL, "unweighted", 11);

  check_model (path, PERC_CALIBRATION_UNWEIGHTED, sizes, G_N_ELEMENTS (sizes));
  g_free (path);
  /* Bottleneck blocks, two of them in the second stage. */
  path = synth_resnet (tmpdir, "resnet-b2", "bottleneck", "1,2", "unweighted", 13);
  check_model (path, PERC_CALIBRATION_UNWEIGHTED, sizes, 1);
  g_free (path);
}

/* Bad input fails before any work: the callback is never called. */
static void
test_refused (void)
{
  char      *path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);
  PercModel *model = perc_model_load (path, test_microkernel (), NULL);
  PercPair  *pair = perc_pair_new (model);
  float     *rgb[2] = { make_image (40, 30, 3), make_image (40, 30, 4) };
  float     *small = make_image (16, 40, 5);
  PercImage  a = { 40, 30, 120, rgb[0] }, b = { 40, 30, 120, rgb[1] };
  PercImage  tiny = { 16, 40, 48, small };
  Taps       t = { 0 };
  GError    *error = NULL;

  rgb[1][3 * (40 * 7 + 5) + 1] = NAN;
  for (PercThreads threads = PERC_THREADS_ONE; threads <= PERC_THREADS_SPLIT; threads++)
    {
      t.caller = g_thread_self ();
      g_assert_false (perc_pair_run (pair, &a, &b, TRUE, threads, 2, NULL, record, recorded, &t,
                                     &error));
      g_assert_error (error, PERC_ERROR, PERC_ERROR_INPUT);
      g_assert_nonnull (strstr (error->message, "NaN value at pixel (5, 7)"));
      g_clear_error (&error);
      g_assert_false (perc_pair_run (pair, &tiny, &tiny, TRUE, threads, 2, NULL, record, recorded,
                                     &t, &error));
      g_assert_nonnull (strstr (error->message, "the squeeze network needs at least 17x17"));
      g_clear_error (&error);
      g_assert_cmpint (t.calls, ==, 0);
    }
  /* ... and the runner still works. */
  rgb[1][3 * (40 * 7 + 5) + 1] = 0.5f;
  run (pair, &a, &b, TRUE, PERC_THREADS_SPLIT, 3, &t);
  g_assert_cmpint (t.calls, ==, model->net->n_taps);
  taps_clear (&t);

  g_free (rgb[0]);
  g_free (rgb[1]);
  g_free (small);
  perc_pair_free (pair);
  perc_model_free (model);
  g_free (path);
}

/* Images in lockstep through extractors of one model (an evaluator's
 * items), two sizes of two images each, have the features each has alone,
 * bit for bit, whether their small layers' products span images or not;
 * a bad image fails the batch before any work.
 */
static void
test_batch (void)
{
  char          *path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);
  PercModel     *model = perc_model_load (path, test_microkernel (), NULL);
  PercExtractor *alone = perc_extractor_new (model);
  PercFeatures  *want = perc_features_new ();
  PercExtractor *ex[4];
  PercFeatures  *got[4];
  PercImage      images[4];
  float         *rgb[4];
  GError        *error = NULL;

  for (int k = 0; k < 4; k++)
    {
      int w = k < 2 ? 67 : 45, h = k < 2 ? 53 : 40;

      ex[k] = perc_extractor_new (model);
      got[k] = perc_features_new ();
      rgb[k] = make_image (w, h, 20 + k);
      images[k] = (PercImage) { w, h, 3 * w, rgb[k] };
    }
  for (int round = 0; round < 2; round++)
    {
      g_assert_true (perc_extractor_run_batch (ex, images, 4, TRUE, got, &error));
      g_assert_no_error (error);
      for (int k = 0; k < 4; k++)
        {
          g_assert_true (perc_extractor_run (alone, &images[k], TRUE, want, &error));
          for (int l = 0; l < want->n_taps; l++)
            {
              const PercShape *sh = &want->shapes[l];
              gsize            n = (gsize) sh->c * sh->h * sh->w * sizeof (float);

              g_assert_cmpint (got[k]->shapes[l].c, ==, sh->c);
              g_assert_cmpint (got[k]->shapes[l].h, ==, sh->h);
              g_assert_cmpint (got[k]->shapes[l].w, ==, sh->w);
              g_assert_cmpmem (got[k]->data[l], n, want->data[l], n);
            }
        }
    }
  rgb[2][100] = NAN;
  g_assert_false (perc_extractor_run_batch (ex, images, 4, TRUE, got, &error));
  g_assert_error (error, PERC_ERROR, PERC_ERROR_INPUT);
  g_clear_error (&error);

  for (int k = 0; k < 4; k++)
    {
      perc_extractor_free (ex[k]);
      perc_features_free (got[k]);
      g_free (rgb[k]);
    }
  perc_extractor_free (alone);
  perc_features_free (want);
  perc_model_free (model);
  g_free (path);
}

/* The units of op i, as perc_network_part () counts them, from the op's
 * definition; and the multiply-adds of each.
 */
static gsize
op_units (const PercOp *op, const PercShape *shapes, double *macs)
{
  const PercShape *out = &shapes[op->dst];

  *macs = 0;
  if (op->kind == PERC_OP_CONV)
    {
      *macs = (double) out->w * op->in_channels * op->kernel * op->kernel;
      return (gsize) out->h * op->out_channels;
    }
  return op->kind == PERC_OP_ADD ? (gsize) out->c * out->h * out->w : (gsize) shapes[op->src].c;
}

/* Shared between N = 2..16 threads, every op's units go to one part each,
 * and each thread's multiply-adds over the whole network are within 5 % of
 * 1/N of them: every built-in network at 64, 256 and 1024 pixels.
 */
static void
test_balance (void)
{
  static const int sides[] = { 64, 256, 1024 };
  double           worst = 0;

  for (const PercNetInfo *info = perc_net_builtins (); info->name; info++)
    {
      PercNet   *net = perc_net_new_builtin (info->name, NULL);
      PercShape *shapes = g_new (PercShape, net->n_buffers);

      for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
        {
          g_assert_true (perc_net_shapes (net, sides[s], sides[s], shapes));
          for (int n = 2; n <= 16; n++)
            {
              double share[16] = { 0 }, total = 0;

              for (int i = 0; i < net->n_ops; i++)
                {
                  double macs;
                  gsize  units = op_units (&net->ops[i], shapes, &macs), next = 0;

                  for (int t = 0; t < n; t++)
                    {
                      gsize first, end;

                      perc_network_part (net, i, shapes, t, n, &first, &end);
                      g_assert_cmpuint (first, ==, next);
                      g_assert_cmpuint (end, >=, first);
                      next = end;
                      share[t] += (end - first) * macs;
                      total += (end - first) * macs;
                    }
                  g_assert_cmpuint (next, ==, units);
                }
              for (int t = 0; t < n; t++)
                {
                  double off = fabs (share[t] * n / total - 1);

                  worst = MAX (worst, off);
                  if (off > 0.05)
                    g_error ("%s at %d, %d threads: thread %d has %.2f %% of the "
                             "multiply-adds, not %.2f %%", info->name, sides[s], n, t,
                             100 * share[t] / total, 100.0 / n);
                }
            }
        }
      g_free (shapes);
      perc_net_free (net);
    }
  if (g_test_verbose ())
    g_printerr ("  each thread within %.3f %% of 1/N of the multiply-adds\n", 100 * worst);
}

/* Each part of an op writes exactly its units, nothing else: every op of
 * a SqueezeNet and a ResNet at 64 x 64 and 40 x 90, split 2 to 16 ways.
 */
static void
check_parts_write (const char *path)
{
  static const int sizes[][2] = { { 64, 64 }, { 40, 90 } };
  const float      untouched = -12345.0f;
  PercModel       *model = perc_model_load (path, test_microkernel (), NULL);
  const PercNet   *net = model->net;

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      PercShape *shapes = g_new (PercShape, net->n_buffers);
      float    **buffers = g_new (float *, net->n_buffers);
      float     *scratch;

      g_assert_true (perc_net_shapes (net, sizes[s][0], sizes[s][1], shapes));
      scratch = g_new (float, perc_network_scratch (model, shapes) + 1);
      for (int b = 0; b < net->n_buffers; b++)
        {
          gsize n = (gsize) shapes[b].c * shapes[b].h * shapes[b].w;

          buffers[b] = g_new (float, n);
          for (gsize j = 0; j < n; j++)
            buffers[b][j] = (float) ((j * 2654435761u) % 1000) / 1000.0f;
        }
      for (int i = 0; i < net->n_ops; i++)
        {
          const PercOp    *op = &net->ops[i];
          const PercShape *out = &shapes[op->dst];
          gsize            plane = (gsize) out->h * out->w;
          gsize            c0 = op->kind == PERC_OP_CONV ? op->dst_channel : 0;
          gsize            c1 = op->kind == PERC_OP_CONV ? c0 + op->out_channels : (gsize) out->c;
          gsize            per_unit = op->kind == PERC_OP_CONV ? (gsize) out->w :
                                      op->kind == PERC_OP_ADD ? 1 : plane;

          gsize            size = (gsize) out->c * plane;
          float           *saved = g_memdup2 (buffers[op->dst], size * sizeof (float));

          /* Its channels of dst untouched, the others (another op's) kept. */
          for (int n = 2; n <= 16; n++)
            for (int t = 0; t < n; t++)
              {
                gsize first, end, written = 0;

                for (gsize j = c0 * plane; j < c1 * plane; j++)
                  buffers[op->dst][j] = untouched;
                perc_network_op (model, i, shapes, buffers, scratch, t, n);
                for (gsize j = 0; j < size; j++)
                  if (j < c0 * plane || j >= c1 * plane)
                    g_assert_cmpfloat (buffers[op->dst][j], ==, saved[j]);
                  else if (buffers[op->dst][j] != untouched)
                    written++;
                perc_network_part (net, i, shapes, t, n, &first, &end);
                g_assert_cmpuint (written, ==, (end - first) * per_unit);
              }
          g_free (saved);
          /* The next op reads this one's whole output. */
          perc_network_op (model, i, shapes, buffers, scratch, 0, 1);
        }
      for (int b = 0; b < net->n_buffers; b++)
        g_free (buffers[b]);
      g_free (buffers);
      g_free (scratch);
      g_free (shapes);
    }
  perc_model_free (model);
}

static void
test_parts_write (void)
{
  char *path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);

  check_parts_write (path);
  g_free (path);
  path = synth_resnet (tmpdir, "resnet-b2", "bottleneck", "1,2", "unweighted", 13);
  check_parts_write (path);
  g_free (path);
}

int
main (int argc, char **argv)
{
  tmpdir = test_setup (&argc, &argv);
  g_test_add_func ("/pair/squeeze", test_squeeze);
  g_test_add_func ("/pair/alex", test_alex);
  g_test_add_func ("/pair/resnet", test_resnet);
  g_test_add_func ("/pair/refused", test_refused);
  g_test_add_func ("/pair/batch", test_batch);
  g_test_add_func ("/pair/balance", test_balance);
  g_test_add_func ("/pair/parts-write", test_parts_write);
  return g_test_run ();
}
