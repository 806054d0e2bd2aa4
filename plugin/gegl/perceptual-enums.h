/* Enumerations shared by the perceptual ops' properties. */
#ifndef PERCEPTUAL_ENUMS_H
#define PERCEPTUAL_ENUMS_H

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  PERCEPTUAL_NETWORK_SQUEEZE,
  PERCEPTUAL_NETWORK_ALEX,
  PERCEPTUAL_NETWORK_VGG,
  PERCEPTUAL_NETWORK_RESNET18,
  PERCEPTUAL_NETWORK_RESNET34,
  PERCEPTUAL_NETWORK_RESNET50,
  PERCEPTUAL_NETWORK_FILE          /* whatever the weights file holds */
} PerceptualNetwork;

/* Same order as the core's PercCalibration, then the network's default. */
typedef enum
{
  PERCEPTUAL_CALIBRATION_LPIPS_V0_1,
  PERCEPTUAL_CALIBRATION_LPIPS_V0_0,
  PERCEPTUAL_CALIBRATION_UNWEIGHTED,
  PERCEPTUAL_CALIBRATION_DEFAULT
} PerceptualCalibration;

/* Same order as the core's PercDistanceKind. */
typedef enum
{
  PERCEPTUAL_DISTANCE_SPATIAL,
  PERCEPTUAL_DISTANCE_MEAN_POOL,
  PERCEPTUAL_DISTANCE_STYLE
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

/* The core's name of a network ("squeeze", ...); "file" for
 * PERCEPTUAL_NETWORK_FILE.
 */
const char *perceptual_network_name            (PerceptualNetwork network);
/* The nick of an enum value, e.g. "magma". */
const char *perceptual_enum_nick               (GType type,
                                                int   value);

G_END_DECLS

#endif
