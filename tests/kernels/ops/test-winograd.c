/* Winograd's blocks (perc-winograd.h) against the naive and the lowered
 * convolution, alone and with images sharing panels, and which
 * convolutions take them.
 */
#include <math.h>

#include "ops/perc-lowered.h"
#include "ops/perc-winograd.h"
#include "support/naive.h"
#include "support/test-core.h"
#include "kernels/unit-tests.h"

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
    { 8, 31, 31, 6, 3, 1, 4, TRUE, TRUE },        /* 8 x 8 blocks: packed without row ends */
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
      perc_winograd_forward_part (&wino, src, h, w, got, scratch, 0, oh, 0, conv.out_channels);
      if (cases[i].naive)
        naive_conv (src, conv.in_channels, h, w, weight, bias, conv.out_channels,
                    conv.kernel, 1, conv.pad, conv.relu, want);
      else
        perc_lowered_forward_part (&conv, src, h, w, want, scratch, 0, oh, 0, conv.out_channels);
      for (gsize j = 0; j < n_out; j++)
        peak = MAX (peak, fabs (want[j]));
      err = max_abs_diff (got, want, n_out);
      if (g_test_verbose ())
        g_printerr ("winograd case %u: max abs diff %.3g (values up to %.3g)\n", i, err, peak);
      g_assert_cmpfloat (err, <=, 2e-5 * MAX (1.0, peak));

      /* A cut inside a block: both parts compute that block. */
      perc_winograd_forward_part (&wino, src, h, w, parts, scratch, 0, cut, 0, conv.out_channels);
      perc_winograd_forward_part (&wino, src, h, w, parts, scratch, cut, oh, 0, conv.out_channels);
      g_assert_cmpmem (parts, n_out * sizeof (float), got, n_out * sizeof (float));

      g_free (src); g_free (weight); g_free (bias); g_free (transformed);
      g_free (got); g_free (want); g_free (parts); g_free (scratch); g_free (packed);
    }
}

/* Images whose blocks fit in a panel, their blocks packed into shared
 * panels (and in groups of images past a few panels), the channels in two
 * ranges: each image bit for bit what its own blocks give, and against
 * the naive convolution.
 */
static void
test_winograd_images (void)
{
  static const struct { int c, h, w, out, k, pad, n; } cases[] = {
    { 24, 15, 15, 20, 3, 1, 5 },          /* AlexNet's 3 x 3 layers at 256 x 256 */
    { 16, 16, 16, 13, 3, 1, 2 },          /* VGG-16's 16 x 16 layers at 64 x 64 */
    { 8, 5, 5, 7, 5, 2, 11 },             /* F(4, 5), 4 blocks each */
    { 6, 7, 6, 5, 3, 1, 40 },             /* more images than a group */
    { 4, 9, 9, 5, 3, 1, 1 },              /* one image */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PercConv     conv = { .in_channels = cases[i].c, .out_channels = cases[i].out,
                            .kernel = cases[i].k, .stride = 1, .pad = cases[i].pad,
                            .relu = i % 2 == 0, .microkernel = test_microkernel () };
      int          n = cases[i].n, h = cases[i].h, w = cases[i].w;
      int          oh = h + 2 * conv.pad - conv.kernel + 1, ow = w + 2 * conv.pad - conv.kernel + 1;
      gsize        n_in = (gsize) conv.in_channels * h * w, n_out = (gsize) conv.out_channels * oh * ow;
      gsize        n_w = (gsize) conv.out_channels * conv.in_channels * conv.kernel * conv.kernel;
      float       *weight = g_new (float, n_w), *bias = g_new (float, conv.out_channels);
      float       *transformed, *scratch, *alone = g_new (float, n_out);
      float       *want = g_new (float, n_out);
      const float *src[64];
      float       *got[64];
      int          cut = conv.out_channels / 2 + 1;
      double       err = 0, peak = 0;

      fill_random (weight, n_w, 600 + i, -0.5, 0.5);
      fill_random (bias, conv.out_channels, 700 + i, -0.5, 0.5);
      conv.weight = weight;
      conv.bias = bias;
      conv.winograd_m = 4;
      transformed = g_new (float, perc_winograd_weights_size (&conv, 4));
      conv.winograd_weight = perc_winograd_weights (&conv, 4, transformed);
      g_assert_true (perc_winograd_spans (&conv, h, w));
      scratch = g_new (float, perc_winograd_scratch_size (&conv, h, w));
      for (int k = 0; k < n; k++)
        {
          float *in = g_new (float, n_in);

          fill_random (in, n_in, 800 + 64 * i + k, -1, 1);
          src[k] = in;
          got[k] = g_new (float, n_out);
        }
      /* The second range first: neither may write the other's. */
      perc_winograd_forward_images (&conv, src, n, h, w, got, scratch, cut, conv.out_channels);
      perc_winograd_forward_images (&conv, src, n, h, w, got, scratch, 0, cut);
      for (int k = 0; k < n; k++)
        {
          perc_winograd_forward_part (&conv, src[k], h, w, alone, scratch, 0, oh, 0,
                                      conv.out_channels);
          g_assert_cmpmem (got[k], n_out * sizeof (float), alone, n_out * sizeof (float));
          naive_conv (src[k], conv.in_channels, h, w, weight, bias, conv.out_channels,
                      conv.kernel, 1, conv.pad, conv.relu, want);
          err = MAX (err, max_abs_diff (got[k], want, n_out));
          for (gsize j = 0; j < n_out; j++)
            peak = MAX (peak, fabs (want[j]));
          g_free ((float *) src[k]);
          g_free (got[k]);
        }
      if (g_test_verbose ())
        g_printerr ("winograd images case %u (%d images): max abs diff %.3g (values up to "
                    "%.3g)\n", i, n, err, peak);
      g_assert_cmpfloat (err, <=, 2e-5 * MAX (1.0, peak));
      g_free (weight); g_free (bias); g_free (transformed); g_free (scratch);
      g_free (alone); g_free (want);
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

void
add_winograd_tests (void)
{
  g_test_add_func ("/kernels/winograd", test_winograd);
  g_test_add_func ("/kernels/winograd-images", test_winograd_images);
  g_test_add_func ("/kernels/winograd-block", test_winograd_block);
}
