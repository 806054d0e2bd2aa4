/* What BLIS does for the core: which kernels and how many threads. */
#ifndef PERC_BLIS_H
#define PERC_BLIS_H

#include <glib.h>

G_BEGIN_DECLS

/* E.g. "BLIS 0.9.0, haswell kernels, 2 threads"; free with g_free (). */
char *perc_blis_describe (void);

G_END_DECLS

#endif
