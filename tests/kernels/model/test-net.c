/* Network descriptions (perc-net.h): tap shapes from the architectures'
 * definitions, unknown names.
 */
#include <string.h>

#include "model/perc-net.h"
#include "kernels/unit-tests.h"

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

void
add_net_tests (void)
{
  g_test_add_func ("/net/shapes", test_net_shapes);
  g_test_add_func ("/net/unknown", test_unknown_net);
}
