/* The units of test-kernels: each file adds its tests. */
#ifndef TEST_KERNELS_UNITS_H
#define TEST_KERNELS_UNITS_H

#include <glib.h>

/* ops/ */
void add_lowered_tests     (void);
void add_conv_tests        (void);
void add_winograd_tests    (void);
void add_phases_tests      (void);
void add_microkernel_tests (void);
void add_maxpool_tests     (void);
void add_resize_tests      (void);
void add_difference_tests  (void);
/* run/ */
void add_arena_tests       (void);
void add_image_tests       (void);
/* model/ */
void add_net_tests         (void);
/* distance/ */
void add_layer_stats_tests (void);
void add_distance_tests    (void);

#endif
