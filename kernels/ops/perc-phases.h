/* Input rows split into phases: the sample at x goes to phase x % m, place
 * x / m, so that strided convolutions and Winograd's blocks read contiguous
 * rows.
 */
#ifndef PERC_PHASES_H
#define PERC_PHASES_H

#include <glib.h>

G_BEGIN_DECLS

/* Calls f (m, ...) with m a constant for the common factors 4 and 2, so
 * that an inlined f divides by shifts.
 */
#define PERC_WITH_M(f, m, ...) \
  ((m) == 4 ? f (4, __VA_ARGS__) : (m) == 2 ? f (2, __VA_ARGS__) : f ((m), __VA_ARGS__))

/* Input row iy of an h x w plane with `pad` zeros on every side, split
 * into m phases: out[phase * stride + q] is the sample at x = q m + phase
 * - pad, for q < nq; zero outside the input.
 */
void perc_phases_split_row (const float *plane,
                            int          height,
                            int          width,
                            int          pad,
                            int          m,
                            int          nq,
                            int          iy,
                            float       *out,
                            gsize        stride);

G_END_DECLS

#endif
