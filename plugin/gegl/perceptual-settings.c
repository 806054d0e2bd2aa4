#include "config.h"

#include <blis.h>

#include "gegl/perceptual-settings.h"
#include "model/perc-catalog.h"

static PercMicrokernel microkernel;
static char          **weights_dirs;

/* BLIS picks its kernels when it starts, from BLIS_ARCH_TYPE or its own
 * detection, which takes slower ones than AVX-512's "skx" on some
 * processors that have them; it offers no other way to choose.  So on
 * such a processor, unless the user set BLIS_ARCH_TYPE, it is set for
 * BLIS to start with, and removed again: the host's environment is left
 * as it was.
 */
static void
choose_kernels (void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init ();
  if (!g_getenv ("BLIS_ARCH_TYPE") &&
      __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512dq") &&
      __builtin_cpu_supports ("avx512bw") && __builtin_cpu_supports ("avx512vl"))
    {
      char id[16];

      g_snprintf (id, sizeof id, "%d", (int) BLIS_ARCH_SKX);
      g_setenv ("BLIS_ARCH_TYPE", id, FALSE);
      bli_init ();
      g_unsetenv ("BLIS_ARCH_TYPE");
    }
#endif
  perc_microkernel_query (&microkernel);
}

void
perceptual_settings_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      choose_kernels ();
      weights_dirs = perc_model_search_dirs (g_getenv ("GEGL_PERCEPTUAL_WEIGHTS_PATH"),
                                             g_get_user_data_dir (), PERCEPTUAL_WEIGHTS_DIR);
      g_once_init_leave (&done, 1);
    }
}

const PercMicrokernel *
perceptual_settings_microkernel (void)
{
  perceptual_settings_init ();
  return &microkernel;
}

const char *const *
perceptual_settings_weights_dirs (void)
{
  perceptual_settings_init ();
  return (const char *const *) weights_dirs;
}
