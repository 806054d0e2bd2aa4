/* What the front ends (the GEGL module, the command line) take from their
 * environment, once, and hand the core as parameters: the BLIS kernels
 * models are packed for, and where installed models are.
 */
#ifndef PERCEPTUAL_SETTINGS_H
#define PERCEPTUAL_SETTINGS_H

#include <glib.h>

#include "ops/perc-microkernel.h"

G_BEGIN_DECLS

/* Chooses BLIS's kernels and reads the model search path, the first time;
 * thread-safe.  Call before anything uses BLIS.
 */
void                   perceptual_settings_init        (void);

/* The micro-kernel of the kernels chosen. */
const PercMicrokernel *perceptual_settings_microkernel (void);

/* Where installed models are, in order: GEGL_PERCEPTUAL_WEIGHTS_PATH, the
 * user's data folder, the installed one (NULL-terminated).
 */
const char *const     *perceptual_settings_weights_dirs (void);

G_END_DECLS

#endif
