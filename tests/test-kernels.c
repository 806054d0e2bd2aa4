/* Each kernel of the core against its naive version. */
#include <math.h>
#include <string.h>

#include "naive.h"
#include "run/perc-arena.h"
#include "ops/perc-lowered.h"
#include "ops/perc-difference.h"
#include "test-core.h"
#include "model/perc-net.h"
#include "ops/perc-maxpool.h"
#include "ops/perc-resize.h"
#include "ops/perc-winograd.h"

static void
test_conv (void)
{
  static const struct { int c, h, w, out, k, stride, pad; gboolean relu; } cases[] = {
    { 3, 17, 23, 8, 3, 2, 0, TRUE },      /* SqueezeNet stem */
    { 3, 31, 29, 6, 11, 4, 2, TRUE },     /* AlexNet stem */
    { 5, 9, 7, 4, 5, 1, 2, FALSE },
    { 16, 13, 11, 8, 1, 1, 0, TRUE },     /* pointwise: no lowering */
    { 8, 12, 10, 6, 3, 1, 1, TRUE },
    { 4, 3, 4, 3, 5, 1, 2, TRUE },        /* kernel wider than the input */
    { 2, 8, 9, 3, 1, 2, 0, TRUE },        /* strided 1x1 is lowered */
    { 40, 9, 50, 30, 1, 1, 0, FALSE },    /* pointwise, whole tiles and partial ones */
    { 64, 100, 100, 8, 3, 1, 1, TRUE },
    { 16, 20, 70, 30, 3, 1, 1, TRUE },    /* whole tiles of the kernel and partial ones */
    { 8, 40, 90, 20, 5, 2, 2, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PercConv conv = { .in_channels = cases[i].c, .out_channels = cases[i].out,
                        .kernel = cases[i].k, .stride = cases[i].stride, .pad = cases[i].pad,
                        .relu = cases[i].relu, .microkernel = test_microkernel () };
      int      oh = (cases[i].h + 2 * conv.pad - conv.kernel) / conv.stride + 1;
      int      ow = (cases[i].w + 2 * conv.pad - conv.kernel) / conv.stride + 1;
      gsize    n_in = (gsize) conv.in_channels * cases[i].h * cases[i].w;
      gsize    n_w = (gsize) conv.out_channels * conv.in_channels * conv.kernel * conv.kernel;
      gsize    n_out = (gsize) conv.out_channels * oh * ow;
      float   *src = g_new (float, n_in), *weight = g_new (float, n_w);
      float   *bias = g_new (float, conv.out_channels);
      float   *got = g_new (float, n_out), *want = g_new (float, n_out);
      float   *scratch = g_new (float, perc_lowered_scratch_size (&conv, cases[i].h, cases[i].w) + 1);
      float   *packed = g_new (float, perc_lowered_weights_size (&conv) + 1);
      double   err;

      fill_random (src, n_in, 1 + i, -1, 1);
      fill_random (weight, n_w, 100 + i, -0.5, 0.5);
      fill_random (bias, conv.out_channels, 200 + i, -0.5, 0.5);
      conv.weight = weight;
      conv.bias = bias;
      conv.packed_weight = perc_lowered_pack (&conv, packed);
      perc_lowered_forward_rows (&conv, src, cases[i].h, cases[i].w, got, scratch, 0, oh);
      naive_conv (src, conv.in_channels, cases[i].h, cases[i].w, weight, bias,
                  conv.out_channels, conv.kernel, conv.stride, conv.pad,
                  conv.relu, want);
      err = max_abs_diff (got, want, n_out);
      if (g_test_verbose ())
        g_printerr ("conv case %u: max abs diff %.3g\n", i, err);
      g_assert_cmpfloat (err, <, 1e-4);

      g_free (src); g_free (weight); g_free (bias);
      g_free (got); g_free (want); g_free (scratch); g_free (packed);
    }
}

/* Winograd's blocks against the naive convolution (small cases) and the
 * direct one (a case large enough for several bands); parts computed
 * apart are the whole, bit for bit.  Float32 Winograd loses more to
 * rounding than the direct product, more so for larger blocks: within
 * 2e-5 of the largest output.
 */
static void
test_winograd (void)
{
  static const struct { int c, h, w, out, k, pad, m; gboolean relu, naive; } cases[] = {
    { 8, 13, 11, 6, 3, 1, 4, TRUE, TRUE },        /* F(4, 3), sizes not multiples of 4 */
    { 5, 9, 7, 4, 5, 2, 4, FALSE, TRUE },         /* F(4, 5): 8 points */
    { 6, 10, 12, 5, 5, 2, 2, TRUE, TRUE },        /* F(2, 5) */
    { 3, 15, 9, 4, 3, 0, 6, FALSE, TRUE },        /* F(6, 3), unpadded */
    { 4, 3, 4, 3, 3, 1, 4, TRUE, TRUE },          /* output smaller than a block */
    { 4, 7, 6, 3, 3, 2, 4, TRUE, TRUE },          /* output larger than the input */
    { 2, 1, 9, 3, 3, 1, 2, TRUE, TRUE },          /* one input row */
    { 96, 36, 600, 96, 3, 1, 4, TRUE, FALSE },    /* three bands */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PercConv conv = { .in_channels = cases[i].c, .out_channels = cases[i].out,
                        .kernel = cases[i].k, .stride = 1, .pad = cases[i].pad,
                        .relu = cases[i].relu, .microkernel = test_microkernel () };
      PercConv wino;
      int      h = cases[i].h, w = cases[i].w, m = cases[i].m;
      int      oh = h + 2 * conv.pad - conv.kernel + 1, ow = w + 2 * conv.pad - conv.kernel + 1;
      int      cut = MIN (oh, m + 1);
      gsize    n_in = (gsize) conv.in_channels * h * w;
      gsize    n_w = (gsize) conv.out_channels * conv.in_channels * conv.kernel * conv.kernel;
      gsize    n_out = (gsize) conv.out_channels * oh * ow;
      float   *src = g_new (float, n_in), *weight = g_new (float, n_w);
      float   *bias = g_new (float, conv.out_channels);
      float   *transformed = g_new (float, perc_winograd_weights_size (&conv, m));
      float   *got = g_new (float, n_out), *want = g_new (float, n_out);
      float   *parts = g_new (float, n_out), *scratch;
      float   *packed = g_new (float, perc_lowered_weights_size (&conv));
      double   err, peak = 0;

      fill_random (src, n_in, 1 + i, -1, 1);
      fill_random (weight, n_w, 100 + i, -0.5, 0.5);
      fill_random (bias, conv.out_channels, 200 + i, -0.5, 0.5);
      conv.weight = weight;
      conv.bias = bias;
      conv.packed_weight = perc_lowered_pack (&conv, packed);
      wino = conv;
      wino.winograd_m = m;
      wino.winograd_weight = perc_winograd_weights (&conv, m, transformed);
      scratch = g_new (float, MAX (perc_lowered_scratch_size (&conv, h, w),
                                   perc_winograd_scratch_size (&wino, h, w)));
      perc_winograd_forward_rows (&wino, src, h, w, got, scratch, 0, oh);
      if (cases[i].naive)
        naive_conv (src, conv.in_channels, h, w, weight, bias, conv.out_channels,
                    conv.kernel, 1, conv.pad, conv.relu, want);
      else
        perc_lowered_forward_rows (&conv, src, h, w, want, scratch, 0, oh);
      for (gsize j = 0; j < n_out; j++)
        peak = MAX (peak, fabs (want[j]));
      err = max_abs_diff (got, want, n_out);
      if (g_test_verbose ())
        g_printerr ("winograd case %u: max abs diff %.3g (values up to %.3g)\n", i, err, peak);
      g_assert_cmpfloat (err, <=, 2e-5 * MAX (1.0, peak));

      /* A cut inside a block: both parts compute that block. */
      perc_winograd_forward_rows (&wino, src, h, w, parts, scratch, 0, cut);
      perc_winograd_forward_rows (&wino, src, h, w, parts, scratch, cut, oh);
      g_assert_cmpmem (parts, n_out * sizeof (float), got, n_out * sizeof (float));

      g_free (src); g_free (weight); g_free (bias); g_free (transformed);
      g_free (got); g_free (want); g_free (parts); g_free (scratch); g_free (packed);
    }
}

/* The convolutions that take Winograd's blocks, and their size. */
static void
test_winograd_block (void)
{
  static const struct { int c, out, k, stride, m; } cases[] = {
    { 64, 192, 5, 1, 4 }, { 192, 384, 3, 1, 4 }, { 16, 64, 3, 1, 4 },
    { 3, 64, 3, 1, 0 },                   /* too few input channels */
    { 64, 8, 3, 1, 0 },                   /* too few outputs */
    { 64, 64, 3, 2, 0 }, { 64, 64, 1, 1, 0 }, { 64, 64, 7, 1, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PercConv conv = { .in_channels = cases[i].c, .out_channels = cases[i].out,
                        .kernel = cases[i].k, .stride = cases[i].stride,
                        .pad = cases[i].k / 2, .relu = TRUE };

      g_assert_cmpint (perc_winograd_block (&conv), ==, cases[i].m);
    }
}

static void
test_maxpool (void)
{
  static const struct { int c, h, w, k, stride, pad; gboolean ceil_mode; } cases[] = {
    { 3, 8, 9, 3, 2, 0, TRUE },
    { 2, 7, 7, 3, 2, 0, TRUE },
    { 2, 2, 3, 3, 2, 0, TRUE },           /* windows past the input */
    { 4, 10, 11, 2, 2, 0, FALSE },
    { 2, 9, 8, 3, 2, 1, FALSE },          /* padded, as ResNet's stem */
    { 2, 3, 5, 3, 2, 0, FALSE },
    { 1, 31, 31, 3, 2, 0, TRUE },
    { 2, 5, 40, 3, 2, 1, FALSE },         /* long rows: whole windows inside */
    { 2, 4, 37, 2, 2, 0, TRUE },
    { 1, 3, 20, 3, 1, 1, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PercOp op = { .kind = PERC_OP_MAXPOOL, .kernel = cases[i].k,
                    .stride = cases[i].stride, .pad = cases[i].pad,
                    .ceil_mode = cases[i].ceil_mode };
      gsize  n = (gsize) cases[i].c * cases[i].h * cases[i].w;
      float *src = g_new (float, n), *got = g_new (float, n), *want = g_new (float, n);
      int    oh, ow;

      fill_random (src, n, 7 + i, -2, 1);
      naive_maxpool (src, cases[i].c, cases[i].h, cases[i].w, op.kernel,
                     op.stride, op.pad, op.ceil_mode, want, &oh, &ow);
      g_assert_cmpint (perc_op_output_size (&op, cases[i].h), ==, oh);
      g_assert_cmpint (perc_op_output_size (&op, cases[i].w), ==, ow);
      perc_maxpool (src, cases[i].c, cases[i].h, cases[i].w, op.kernel,
                    op.stride, op.pad, got, oh, ow);
      g_assert_cmpfloat (max_abs_diff (got, want, (gsize) cases[i].c * oh * ow), ==, 0);
      g_free (src); g_free (got); g_free (want);
    }
}

static void
test_resize (void)
{
  static const struct { int sw, sh, dw, dh; } cases[] = {
    { 7, 5, 47, 39 }, { 1, 1, 10, 3 }, { 3, 3, 3, 3 }, { 31, 31, 64, 64 },
    { 10, 9, 4, 3 }, { 2, 15, 33, 50 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize  ns = (gsize) cases[i].sw * cases[i].sh, nd = (gsize) cases[i].dw * cases[i].dh;
      float *src = g_new (float, ns), *got = g_new (float, nd), *want = g_new (float, nd);

      fill_random (src, ns, 3 + i, 0, 2);
      naive_resize (src, cases[i].sw, cases[i].sh, want, cases[i].dw, cases[i].dh);
      perc_resize_bilinear (src, cases[i].sw, cases[i].sh, got, cases[i].dw, cases[i].dh, FALSE);
      g_assert_cmpfloat (max_abs_diff (got, want, nd), <, 1e-6);
      /* Accumulating adds the same map again. */
      perc_resize_bilinear (src, cases[i].sw, cases[i].sh, got, cases[i].dw, cases[i].dh, TRUE);
      for (gsize j = 0; j < nd; j++)
        want[j] *= 2;
      g_assert_cmpfloat (max_abs_diff (got, want, nd), <, 2e-6);
      g_free (src); g_free (got); g_free (want);
    }
}

static void
test_difference (void)
{
  const int c = 64, n = 50;
  float    *f0 = g_new (float, c * n), *f1 = g_new (float, c * n);
  float    *w = g_new (float, c), *got = g_new (float, n), *want = g_new (float, n);
  float    *scratch = g_new (float, 2 * n);
  double    mean = 0;

  fill_random (f0, c * n, 11, 0, 3);
  fill_random (f1, c * n, 12, 0, 3);
  fill_random (w, c, 13, 0, 1);
  /* A pixel with all-zero features in one image: its normalised features
   * are zero, as in the reference.
   */
  for (int j = 0; j < c; j++)
    f1[j * n + 7] = 0;

  for (int weighted = 0; weighted < 2; weighted++)
    {
      perc_layer_difference (f0, f1, c, n, weighted ? w : NULL, got, scratch);
      naive_difference (f0, f1, c, n, weighted ? w : NULL, want);
      g_assert_cmpfloat (max_abs_diff (got, want, n), <, 1e-6);
    }
  for (int i = 0; i < n; i++)
    mean += want[i];
  g_assert_cmpfloat (fabs (perc_mean (got, n) - mean / n), <, 1e-6);
  /* Unweighted, identical features give 0; a zero pixel against a
   * non-zero one gives exactly 1.
   */
  perc_layer_difference (f0, f0, c, n, NULL, got, scratch);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat (fabs (got[i]), <, 1e-6);
  perc_layer_difference (f0, f1, c, n, NULL, got, scratch);
  g_assert_cmpfloat (fabs (got[7] - 1.0), <, 1e-6);

  g_free (f0); g_free (f1); g_free (w); g_free (got); g_free (want); g_free (scratch);
}

/* Plans against the definition: blocks live at the same step never share
 * memory, and the arena lies between the most memory live at one step
 * and the sum of all blocks.
 */
static void
test_arena (void)
{
  PercBlock chain[3] = { { 10, 0, 1, 0 }, { 10, 1, 2, 0 }, { 10, 2, 3, 0 } };
  GRand    *rand = g_rand_new_with_seed (7);

  /* The third block reuses the first one's memory. */
  g_assert_cmpuint (perc_arena_plan (chain, 3), ==, 20);
  g_assert_cmpuint (chain[2].offset, ==, chain[0].offset);

  for (int trial = 0; trial < 200; trial++)
    {
      int        n = g_rand_int_range (rand, 1, 40);
      PercBlock *b = g_new (PercBlock, n);
      gsize      total, sum = 0, peak = 0;

      for (int i = 0; i < n; i++)
        {
          int first = g_rand_int_range (rand, 0, 30);

          b[i] = (PercBlock) { g_rand_int_range (rand, 0, 5) ? g_rand_int_range (rand, 1, 1000) : 0,
                               first, first + g_rand_int_range (rand, 0, 8), G_MAXSIZE };
          sum += b[i].size;
        }
      total = perc_arena_plan (b, n);
      for (int t = 0; t < 40; t++)
        {
          gsize live = 0;

          for (int i = 0; i < n; i++)
            live += b[i].first <= t && t <= b[i].last ? b[i].size : 0;
          peak = MAX (peak, live);
        }
      for (int i = 0; i < n; i++)
        {
          g_assert_cmpuint (b[i].offset + b[i].size, <=, total);
          for (int j = 0; j < i; j++)
            if (b[i].size && b[j].size && b[i].first <= b[j].last && b[j].first <= b[i].last)
              g_assert_true (b[i].offset + b[i].size <= b[j].offset ||
                             b[j].offset + b[j].size <= b[i].offset);
        }
      g_assert_cmpuint (total, >=, peak);
      g_assert_cmpuint (total, <=, sum);
      g_free (b);
    }
  g_rand_free (rand);
}

/* Tap sizes at 64 x 64 from the architectures' definitions. */
static void
test_net_shapes (void)
{
  static const struct { const char *name; int n_taps; int sizes[8]; int channels[8]; } nets[] = {
    { "squeeze", 7, { 31, 15, 7, 3, 3, 3, 3 }, { 64, 128, 256, 384, 384, 512, 512 } },
    { "alex", 5, { 15, 7, 3, 3, 3 }, { 64, 192, 384, 256, 256 } },
    { "vgg", 5, { 64, 32, 16, 8, 4 }, { 64, 128, 256, 512, 512 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (nets); i++)
    {
      PercNet   *net = perc_net_new_builtin (nets[i].name, NULL);
      PercShape *shapes = g_new (PercShape, net->n_buffers);

      g_assert_cmpint (net->n_taps, ==, nets[i].n_taps);
      g_assert_true (perc_net_shapes (net, 64, 64, shapes));
      for (int t = 0; t < net->n_taps; t++)
        {
          g_assert_cmpint (shapes[net->taps[t]].h, ==, nets[i].sizes[t]);
          g_assert_cmpint (shapes[net->taps[t]].w, ==, nets[i].sizes[t]);
          g_assert_cmpint (shapes[net->taps[t]].c, ==, nets[i].channels[t]);
        }
      g_free (shapes);
      perc_net_free (net);
    }
}

static void
test_unknown_net (void)
{
  GError *error = NULL;

  g_assert_null (perc_net_new_builtin ("resnet-1000", &error));
  g_assert_nonnull (strstr (error->message, "resnet-1000"));
  g_error_free (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/conv", test_conv);
  g_test_add_func ("/kernels/winograd", test_winograd);
  g_test_add_func ("/kernels/winograd-block", test_winograd_block);
  g_test_add_func ("/kernels/maxpool", test_maxpool);
  g_test_add_func ("/kernels/resize", test_resize);
  g_test_add_func ("/kernels/difference", test_difference);
  g_test_add_func ("/kernels/arena", test_arena);
  g_test_add_func ("/net/shapes", test_net_shapes);
  g_test_add_func ("/net/unknown", test_unknown_net);
  return g_test_run ();
}
