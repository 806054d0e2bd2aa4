/* The models of this process, loaded once and shared by every node. */
#ifndef PERCEPTUAL_MODELS_H
#define PERCEPTUAL_MODELS_H

#include <glib.h>

#include "perc-model.h"
#include "perceptual-enums.h"

G_BEGIN_DECLS

/* The model for network + calibration: from `weights` if it is not empty,
 * else from the installed models (see perc_model_locate ()).  Models stay
 * loaded for the life of the process; a file that changes on disk is loaded
 * again.  Thread-safe.
 */
const PercModel *perceptual_models_get (PerceptualNetwork      network,
                                        PerceptualCalibration  calibration,
                                        const char            *weights,
                                        GError               **error);

/* g_warning () the first time a message is seen in this process. */
void             perceptual_warn_once  (const char            *message);

G_END_DECLS

#endif
