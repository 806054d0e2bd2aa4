/* Max pooling (perc-maxpool.h) and its output size against the naive
 * version of PyTorch's definition.
 */
#include "model/perc-net.h"
#include "ops/perc-maxpool.h"
#include "support/naive.h"
#include "kernels/unit-tests.h"

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

void
add_maxpool_tests (void)
{
  g_test_add_func ("/kernels/maxpool", test_maxpool);
}
