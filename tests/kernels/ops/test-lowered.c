/* The lowered convolution product (perc-lowered.h) against the naive
 * convolution: strided and padded kernels, pointwise ones (no lowering),
 * kernels wider than the input, whole and partial tiles, outputs
 * narrower than a panel (panels across rows) and wider.
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

void
add_lowered_tests (void)
{
  g_test_add_func ("/kernels/conv", test_conv);
}
