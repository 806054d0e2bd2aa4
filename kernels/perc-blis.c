#include <stdio.h>
#include <stdlib.h>
#include <blis.h>

#include "perc-blis.h"
#include "perc-microkernel.h"

gboolean
perc_blis_configure (void)
{
#if defined(__x86_64__) && defined(__GNUC__)
  char     id[16];
  gboolean chose = FALSE;

  __builtin_cpu_init ();
  if (!g_getenv ("BLIS_ARCH_TYPE") &&
      __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512dq") &&
      __builtin_cpu_supports ("avx512bw") && __builtin_cpu_supports ("avx512vl"))
    {
      /* BLIS 0.9 takes the number of its arch_t value. */
      g_snprintf (id, sizeof id, "%d", (int) BLIS_ARCH_SKX);
      g_setenv ("BLIS_ARCH_TYPE", id, FALSE);
      chose = TRUE;
    }
  return chose;
#else
  return FALSE;
#endif
}

int
perc_blis_threads_allowed (void)
{
  const char *env = g_getenv ("BLIS_NUM_THREADS");
  int         n;

  if (!env)
    env = g_getenv ("OMP_NUM_THREADS");
  n = env ? atoi (env) : 0;
  return n > 0 ? n : (int) g_get_num_processors ();
}

char *
perc_blis_describe (void)
{
  PercMicrokernel k;

  perc_microkernel_query (&k);
  /* The tile as BLIS names it: MR x NR. */
  return g_strdup_printf ("BLIS %s, %s kernels (%d x %d tiles)",
                          bli_info_get_version_str (),
                          bli_arch_string (bli_arch_query_id ()),
                          k.pixels_first ? k.pixels : k.outputs,
                          k.pixels_first ? k.outputs : k.pixels);
}
