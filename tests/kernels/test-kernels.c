/* The core's units, each against its naive version or its definition, one
 * file per unit in the folder of its sources (ops/, run/, model/,
 * distance/), run as one test.  One unit alone:
 *
 *   build/tests/kernels/test-kernels -p /kernels/winograd
 */
#include "support/test-util.h"
#include "kernels/unit-tests.h"

int
main (int argc, char **argv)
{
  test_setup (&argc, &argv);
  add_lowered_tests ();
  add_conv_tests ();
  add_winograd_tests ();
  add_phases_tests ();
  add_microkernel_tests ();
  add_maxpool_tests ();
  add_resize_tests ();
  add_difference_tests ();
  add_arena_tests ();
  add_image_tests ();
  add_net_tests ();
  add_layer_stats_tests ();
  add_distance_tests ();
  return g_test_run ();
}
