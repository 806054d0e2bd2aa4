/* The convolution's dispatcher (perc-conv.h): the method it chooses, the
 * weights it packs for it, and its rows against the naive convolution;
 * parts computed apart are the whole, bit for bit, and leave the other
 * rows alone.
 */
#include <math.h>
#include <string.h>

#include "ops/perc-conv.h"
#include "ops/perc-winograd.h"
#include "support/naive.h"
#include "support/test-core.h"
#include "kernels/unit-tests.h"

/* Not an output value: rows left alone keep it. */
#define UNTOUCHED 12345.0f

static void
test_conv_dispatch (void)
{
  static const struct { int c, h, w, out, k, stride, pad; gboolean relu, winograd; } cases[] = {
    { 16, 13, 11, 64, 3, 1, 1, TRUE, TRUE },
    { 64, 9, 10, 192, 5, 1, 2, FALSE, TRUE },     /* 5x5 */
    { 3, 17, 15, 64, 3, 1, 1, TRUE, FALSE },      /* too few input channels */
    { 64, 12, 9, 64, 3, 2, 1, TRUE, FALSE },      /* strided */
    { 64, 7, 8, 64, 1, 1, 0, FALSE, FALSE },      /* pointwise */
  };

  /* Each case at its size and at one of 40 x 40 or more, whose output is
   * large enough for Winograd's blocks where the layer can take them.
   */
  for (guint i = 0; i < 2 * G_N_ELEMENTS (cases); i++)
    {
      guint    ci = i / 2;
      PercConv conv = { .in_channels = cases[ci].c, .out_channels = cases[ci].out,
                        .kernel = cases[ci].k, .stride = cases[ci].stride, .pad = cases[ci].pad,
                        .relu = cases[ci].relu };
      int      h = i % 2 ? MAX (cases[ci].h, 40) : cases[ci].h;
      int      w = i % 2 ? MAX (cases[ci].w, 40) : cases[ci].w;
      int      oh = perc_conv_out_size (&conv, h), ow = perc_conv_out_size (&conv, w);
      gsize    n_in = (gsize) conv.in_channels * h * w;
      gsize    n_w = (gsize) conv.out_channels * conv.in_channels * conv.kernel * conv.kernel;
      gsize    n_out = (gsize) conv.out_channels * oh * ow, row = ow;
      float   *src = g_new (float, n_in), *weight = g_new (float, n_w);
      float   *bias = g_new (float, conv.out_channels);
      float   *got = g_new (float, n_out), *want = g_new (float, n_out);
      float   *parts = g_new (float, n_out), *packed, *scratch;
      gboolean winograd;
      const float *start;
      double   err, peak = 0;
      int      cuts[] = { 1, oh / 2, oh - 1 };

      fill_random (src, n_in, 300 + i, -1, 1);
      fill_random (weight, n_w, 400 + i, -0.5, 0.5);
      fill_random (bias, conv.out_channels, 500 + i, -0.5, 0.5);
      conv.weight = weight;
      conv.bias = bias;

      /* The method: Winograd's blocks where perc_winograd_block () says
       * and the output is large enough; both forms of the weights packed.
       */
      perc_conv_choose (&conv, test_microkernel ());
      g_assert_true (conv.microkernel == test_microkernel ());
      g_assert_cmpint (conv.winograd_m, ==, perc_winograd_block (&conv));
      g_assert_cmpint (conv.winograd_m > 0, ==, cases[ci].winograd);
      winograd = perc_conv_winograd_at (&conv, h, w);
      g_assert_cmpint (winograd, ==, cases[ci].winograd &&
                                     (double) oh * ow * conv.in_channels * conv.out_channels >=
                                     (double) PERC_CONV_WINOGRAD_MIN_WORK *
                                     (conv.in_channels + conv.out_channels) &&
                                     2 * ((oh + 3) / 4) * ((ow + 3) / 4) >=
                                     test_microkernel ()->pixels);
      /* Case 1 at its size: a layer that can take Winograd's blocks, lowered. */
      if (i == 2)
        g_assert_false (winograd);
      packed = g_new (float, perc_conv_weights_size (&conv));
      start = perc_conv_pack (&conv, packed);
      g_assert_true (start == conv.packed_weight && start >= packed);
      g_assert_true (!conv.winograd_m || conv.winograd_weight > start);
      scratch = g_new (float, perc_conv_scratch_size (&conv, h, w) + 1);

      perc_conv_forward_part (&conv, src, h, w, got, scratch, 0, oh, 0, conv.out_channels);
      naive_conv (src, conv.in_channels, h, w, weight, bias, conv.out_channels,
                  conv.kernel, conv.stride, conv.pad, conv.relu, want);
      for (gsize j = 0; j < n_out; j++)
        peak = MAX (peak, fabs (want[j]));
      err = max_abs_diff (got, want, n_out);
      if (g_test_verbose ())
        g_printerr ("conv dispatch case %u, %dx%d (%s): max abs diff %.3g (values up to %.3g)\n",
                    ci, h, w, winograd ? "Winograd" : "lowered", err, peak);
      /* As test-lowered.c and test-winograd.c allow. */
      g_assert_cmpfloat (err, <=, winograd ? 2e-5 * MAX (1.0, peak) : 1e-4);

      for (guint c = 0; c < G_N_ELEMENTS (cuts); c++)
        {
          for (gsize j = 0; j < n_out; j++)
            parts[j] = UNTOUCHED;
          perc_conv_forward_part (&conv, src, h, w, parts, scratch, cuts[c], oh, 0,
                                  conv.out_channels);
          for (int o = 0; o < conv.out_channels; o++)
            for (gsize j = 0; j < (gsize) cuts[c] * row; j++)
              g_assert_cmpfloat (parts[(gsize) o * oh * ow + j], ==, UNTOUCHED);
          perc_conv_forward_part (&conv, src, h, w, parts, scratch, 0, cuts[c], 0,
                                  conv.out_channels);
          g_assert_cmpmem (parts, n_out * sizeof (float), got, n_out * sizeof (float));
        }
      /* Cut between channels, inside a panel of weights and on its edge,
       * and a block of rows and channels.
       */
      {
        int splits[] = { 1, 5, test_microkernel ()->outputs, conv.out_channels - 1 };

        for (guint c = 0; c < G_N_ELEMENTS (splits); c++)
          {
            int cc = MIN (splits[c], conv.out_channels - 1);

            for (gsize j = 0; j < n_out; j++)
              parts[j] = UNTOUCHED;
            perc_conv_forward_part (&conv, src, h, w, parts, scratch, 0, oh, cc,
                                    conv.out_channels);
            for (gsize j = 0; j < (gsize) cc * oh * ow; j++)
              g_assert_cmpfloat (parts[j], ==, UNTOUCHED);
            perc_conv_forward_part (&conv, src, h, w, parts, scratch, oh / 2, oh, 0, cc);
            for (gsize j = 0; j < (gsize) oh / 2 * ow; j++)
              g_assert_cmpfloat (parts[j], ==, UNTOUCHED);
            perc_conv_forward_part (&conv, src, h, w, parts, scratch, 0, oh / 2, 0, cc);
            g_assert_cmpmem (parts, n_out * sizeof (float), got, n_out * sizeof (float));
          }
      }

      g_free (src); g_free (weight); g_free (bias); g_free (got); g_free (want);
      g_free (parts); g_free (packed); g_free (scratch);
    }
}

void
add_conv_tests (void)
{
  g_test_add_func ("/kernels/conv-dispatch", test_conv_dispatch);
}
