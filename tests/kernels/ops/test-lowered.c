/* The lowered convolution product (perc-lowered.h) against the naive
 * convolution: strided and padded kernels, pointwise ones (no lowering),
 * kernels wider than the input, whole and partial tiles, outputs
 * narrower than a panel (panels across rows) and wider; and several
 * images in one product, each against the naive convolution alone.
 */
#include "ops/perc-lowered.h"
#include "support/naive.h"
#include "support/test-core.h"
#include "kernels/unit-tests.h"

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
      perc_lowered_forward_part (&conv, src, cases[i].h, cases[i].w, got, scratch, 0, oh, 0,
                                 conv.out_channels);
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

/* Images of a few pixels each, their panels running on from one image
 * into the next; the channels in two ranges, split inside a panel of
 * weights.
 */
static void
test_images (void)
{
  static const struct { int c, h, w, out, k, stride, pad, n; } cases[] = {
    { 24, 3, 3, 20, 3, 1, 1, 7 },         /* AlexNet's 3 x 3 layers at 64 x 64 */
    { 16, 3, 3, 13, 1, 1, 0, 5 },         /* pointwise on 3 x 3 */
    { 3, 63, 63, 8, 11, 4, 2, 3 },        /* AlexNet's stem at 64 x 64: 15 wide */
    { 5, 2, 3, 7, 5, 1, 2, 9 },           /* kernel wider than the input */
    { 8, 1, 1, 6, 1, 1, 0, 40 },          /* one pixel each: many images a panel */
    { 6, 4, 4, 9, 3, 2, 1, 2 },           /* 2 x 2 outputs, strided */
    { 4, 9, 9, 5, 3, 1, 1, 1 },           /* one image */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PercConv     conv = { .in_channels = cases[i].c, .out_channels = cases[i].out,
                            .kernel = cases[i].k, .stride = cases[i].stride,
                            .pad = cases[i].pad, .relu = i % 2 == 0,
                            .microkernel = test_microkernel () };
      int          n = cases[i].n, h = cases[i].h, w = cases[i].w;
      int          oh = (h + 2 * conv.pad - conv.kernel) / conv.stride + 1;
      int          ow = (w + 2 * conv.pad - conv.kernel) / conv.stride + 1;
      gsize        n_in = (gsize) conv.in_channels * h * w, plane = (gsize) oh * ow;
      gsize        n_out = (gsize) conv.out_channels * plane;
      gsize        n_w = (gsize) conv.out_channels * conv.in_channels * conv.kernel * conv.kernel;
      float       *weight = g_new (float, n_w), *bias = g_new (float, conv.out_channels);
      float       *packed = g_new (float, perc_lowered_weights_size (&conv) + 1);
      float       *scratch = g_new (float, perc_lowered_scratch_size (&conv, h, w) + 1);
      float       *want = g_new (float, n_out);
      const float *src[64];
      float       *got[64];
      int          cut = conv.out_channels / 2 + 1;
      double       err = 0;

      g_assert_cmpint (ow, <, conv.microkernel->pixels);
      fill_random (weight, n_w, 300 + i, -0.5, 0.5);
      fill_random (bias, conv.out_channels, 400 + i, -0.5, 0.5);
      conv.weight = weight;
      conv.bias = bias;
      conv.packed_weight = perc_lowered_pack (&conv, packed);
      for (int k = 0; k < n; k++)
        {
          float *in = g_new (float, n_in);

          fill_random (in, n_in, 500 + 64 * i + k, -1, 1);
          src[k] = in;
          got[k] = g_new (float, n_out);
        }
      /* The second range first: neither may write the other's. */
      perc_lowered_forward_images (&conv, src, h, w, got, scratch, 0, n * plane, cut,
                                   conv.out_channels);
      perc_lowered_forward_images (&conv, src, h, w, got, scratch, 0, n * plane, 0, cut);
      for (int k = 0; k < n; k++)
        {
          naive_conv (src[k], conv.in_channels, h, w, weight, bias, conv.out_channels,
                      conv.kernel, conv.stride, conv.pad, conv.relu, want);
          err = MAX (err, max_abs_diff (got[k], want, n_out));
          g_free ((float *) src[k]);
          g_free (got[k]);
        }
      if (g_test_verbose ())
        g_printerr ("images case %u (%d images): max abs diff %.3g\n", i, n, err);
      g_assert_cmpfloat (err, <, 1e-4);
      g_free (weight); g_free (bias); g_free (packed); g_free (scratch); g_free (want);
    }
}

void
add_lowered_tests (void)
{
  g_test_add_func ("/kernels/conv", test_conv);
  g_test_add_func ("/kernels/conv/images", test_images);
}
