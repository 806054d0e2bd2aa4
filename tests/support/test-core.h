/* What the core's tests need to load models: the micro-kernel of BLIS's
 * own choice (the tests leave BLIS_ARCH_TYPE as it is).
 */
#ifndef TEST_CORE_H
#define TEST_CORE_H

#include "ops/perc-microkernel.h"

static inline const PercMicrokernel *
test_microkernel (void)
{
  static PercMicrokernel k;
  static gsize           done;

  if (g_once_init_enter (&done))
    {
      perc_microkernel_query (&k);
      g_once_init_leave (&done, 1);
    }
  return &k;
}

#endif
