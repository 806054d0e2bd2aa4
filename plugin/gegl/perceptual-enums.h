/* The enumerations of the perceptual ops' properties, made from the core's
 * tables: a network the core lists (model/perc-net.h) is an op's choice.
 */
#ifndef PERCEPTUAL_ENUMS_H
#define PERCEPTUAL_ENUMS_H

#include <glib-object.h>

#include "model/perc-catalog.h"
#include "distance/perc-distance.h"

G_BEGIN_DECLS

/* A network: the core's built-in networks in their order (0 is SqueezeNet,
 * the default), then "file", whatever the weights file holds
 * (perceptual_network_file ()).
 */
typedef int PerceptualNetwork;
#define PERCEPTUAL_NETWORK_SQUEEZE 0

/* The core's calibrations, then the network's default. */
typedef enum
{
  PERCEPTUAL_CALIBRATION_LPIPS_V0_1 = PERC_CALIBRATION_LPIPS_V0_1,
  PERCEPTUAL_CALIBRATION_LPIPS_V0_0 = PERC_CALIBRATION_LPIPS_V0_0,
  PERCEPTUAL_CALIBRATION_UNWEIGHTED = PERC_CALIBRATION_UNWEIGHTED,
  PERCEPTUAL_CALIBRATION_DEFAULT
} PerceptualCalibration;

/* The core's distance functions. */
typedef enum
{
  PERCEPTUAL_DISTANCE_SPATIAL   = PERC_DISTANCE_SPATIAL,
  PERCEPTUAL_DISTANCE_MEAN_POOL = PERC_DISTANCE_MEAN_POOL,
  PERCEPTUAL_DISTANCE_STYLE     = PERC_DISTANCE_STYLE
} PerceptualDistanceFunction;

typedef enum
{
  PERCEPTUAL_COLORMAP_MAGMA,
  PERCEPTUAL_COLORMAP_INFERNO,
  PERCEPTUAL_COLORMAP_VIRIDIS,
  PERCEPTUAL_COLORMAP_TURBO,
  PERCEPTUAL_COLORMAP_GRAY
} PerceptualColormapName;

GType       perceptual_network_get_type        (void) G_GNUC_CONST;
GType       perceptual_calibration_get_type    (void) G_GNUC_CONST;
GType       perceptual_colormap_name_get_type  (void) G_GNUC_CONST;
GType       perceptual_distance_function_get_type (void) G_GNUC_CONST;

/* The value of "file": the number of built-in networks. */
PerceptualNetwork perceptual_network_file       (void);
/* A network's value from its name, or -1. */
PerceptualNetwork perceptual_network_value      (const char *name);

/* The core's name of a network ("squeeze", ...); "file" for
 * perceptual_network_file ().
 */
const char *perceptual_network_name            (PerceptualNetwork network);
/* The nick of an enum value, e.g. "magma". */
const char *perceptual_enum_nick               (GType type,
                                                int   value);

G_END_DECLS

#endif
