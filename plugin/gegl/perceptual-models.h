/* The models of this process, loaded once and shared by every node. */
#ifndef PERCEPTUAL_MODELS_H
#define PERCEPTUAL_MODELS_H

#include <glib.h>

#include "distance/perc-distance.h"
#include "perceptual-enums.h"

G_BEGIN_DECLS

/* What a user chose: the ops' common properties. */
typedef struct
{
  PerceptualNetwork          network;
  PerceptualCalibration      calibration;
  const char                *weights;        /* "" or NULL: installed */
  PerceptualDistanceFunction function;
  const char                *layers;         /* "" or NULL: the default */
} PerceptualChoice;

/* The choice of an op's GeglProperties `o`. */
#define PERCEPTUAL_CHOICE(o) \
  ((PerceptualChoice) { (o)->network, (o)->calibration, (o)->weights, \
                        (o)->distance_function, (o)->layer_subset })

/* The model for the choice: from `weights` if it is not empty, else from
 * the installed models (see perc_model_locate ()), and in `metric` what to
 * compute with it (the default calibration and layers resolved, checked
 * against the model).  The caller lets it go with
 * perceptual_models_release ().  A model stays loaded for the next caller;
 * a file that changes on disk is loaded again, and the old model freed
 * once nothing uses it.  Thread-safe.
 */
const PercModel *perceptual_models_get     (const PerceptualChoice *choice,
                                            PercMetric             *metric,
                                            GError                **error);
void             perceptual_models_release (const PercModel        *model);
/* One more hold on a model the caller holds already. */
const PercModel *perceptual_models_hold    (const PercModel        *model);

/* A warning (in GEGL's log domain, which GIMP shows its user) the first
 * time a message is seen in this process, unless warnings are off.
 */
void             perceptual_warn_once     (const char            *message);
/* Off for a front end that reports every error itself. */
void             perceptual_set_warnings  (gboolean               on);

G_END_DECLS

#endif
