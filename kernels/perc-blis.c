#include <blis.h>

#include "perc-blis.h"

char *
perc_blis_describe (void)
{
  dim_t threads = bli_thread_get_num_threads ();

  /* -1: nothing set, BLIS runs single-threaded. */
  return g_strdup_printf ("BLIS %s, %s kernels, %d thread%s",
                          bli_info_get_version_str (),
                          bli_arch_string (bli_arch_query_id ()),
                          threads > 0 ? (int) threads : 1,
                          threads > 1 ? "s" : "");
}
