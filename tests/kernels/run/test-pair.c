/* The pair runner (perc-pair.h): one thread, the two images in two
 * threads and every op split between two threads hand the callback the
 * same taps, bit for bit, in the same order, in the calling thread; the
 * same as the extractor computes for each image alone.  For a SqueezeNet,
 * an AlexNet and ResNets (basic and bottleneck blocks) at an odd small
 * size and at one where the first convolutions are large enough to be
 * split; one runner reused across sizes and ways; bad input refused
 * before any work.
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
  int        calls;
  int        layer[PERC_MAX_TAPS];
  PercShape  shape[PERC_MAX_TAPS];
  float     *data[PERC_MAX_TAPS][2];
} Taps;

static void
record (int              l,
        const PercShape *shape,
        const float     *a,
        const float     *b,
        gpointer         data)
{
  Taps *t = data;
  gsize n = (gsize) shape->c * shape->h * shape->w;

  g_assert_true (g_thread_self () == t->caller);
  g_assert_cmpint (t->calls, <, PERC_MAX_TAPS);
  t->layer[t->calls] = l;
  t->shape[t->calls] = *shape;
  t->data[t->calls][0] = g_memdup2 (a, n * sizeof (float));
  t->data[t->calls][1] = g_memdup2 (b, n * sizeof (float));
  t->calls++;
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
  g_assert_true (perc_pair_run (pair, a, b, scaling, threads, n_threads, record, t, &error));
  g_assert_no_error (error);
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
                        perc_pair_bytes (model, w, h, PERC_THREADS_SPLIT, 2));
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
      g_assert_false (perc_pair_run (pair, &a, &b, TRUE, threads, 2, record, &t, &error));
      g_assert_error (error, PERC_ERROR, PERC_ERROR_INPUT);
      g_assert_nonnull (strstr (error->message, "NaN value at pixel (5, 7)"));
      g_clear_error (&error);
      g_assert_false (perc_pair_run (pair, &tiny, &tiny, TRUE, threads, 2, record, &t, &error));
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

int
main (int argc, char **argv)
{
  tmpdir = test_setup (&argc, &argv);
  g_test_add_func ("/pair/squeeze", test_squeeze);
  g_test_add_func ("/pair/alex", test_alex);
  g_test_add_func ("/pair/resnet", test_resnet);
  g_test_add_func ("/pair/refused", test_refused);
  return g_test_run ();
}
