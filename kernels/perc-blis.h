/* BLIS as the core uses it (its micro-kernel, perc-microkernel.h): which
 * kernels; and how many threads the core may use.
 */
#ifndef PERC_BLIS_H
#define PERC_BLIS_H

#include <glib.h>

G_BEGIN_DECLS

/* Call once, before the first distance: on processors with AVX-512 (the
 * subset BLIS's "skx" kernels need), asks BLIS for those kernels through
 * BLIS_ARCH_TYPE, which BLIS 0.9 reads when it initialises; its own
 * detection picks slower ones on some such processors.  A BLIS_ARCH_TYPE
 * the user set is left alone.  Returns TRUE if it chose the kernels.
 */
gboolean perc_blis_configure (void);

/* The threads the user allows: BLIS_NUM_THREADS, else OMP_NUM_THREADS,
 * else the number of cores.
 */
int      perc_blis_threads_allowed (void);

/* E.g. "BLIS 0.9.0, skx kernels (32 x 12 tiles)"; free with g_free (). */
char    *perc_blis_describe  (void);

G_END_DECLS

#endif
