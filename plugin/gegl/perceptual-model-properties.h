/* The properties every perceptual op has: which model compares the images.
 * Included inside an op's GEGL_PROPERTIES section, which GEGL's chant
 * reads several times: so no include guard.
 */

property_enum (network, _("Network"),
               PerceptualNetwork, perceptual_network,
               PERCEPTUAL_NETWORK_SQUEEZE)
  description (_("The ImageNet network whose features are compared"))

property_enum (calibration, _("Calibration"),
               PerceptualCalibration, perceptual_calibration,
               PERCEPTUAL_CALIBRATION_DEFAULT)
  description (_("LPIPS's learned weights per feature channel (v0.1 or v0.0), "
                 "or the same weight for every channel; the default is LPIPS "
                 "v0.1 for the networks LPIPS calibrated, unweighted for "
                 "ResNets, and a weights file's own calibration"))

/* A plain string, not a file path: GIMP 3's filter API cannot pass
 * GeglParamFilePath properties (and drops every property after one).
 */
property_string (weights, _("Weights file"), "")
  description (_("A model file made by gegl-perceptual-convert (an absolute "
                 "path, or one relative to the working directory); empty uses "
                 "the installed model for the network and calibration"))

property_enum (distance_function, _("Distance function"),
               PerceptualDistanceFunction, perceptual_distance_function,
               PERCEPTUAL_DISTANCE_SPATIAL)
  description (_("How feature differences become a distance: position by "
                 "position (LPIPS, the only one with a map), or whole layers "
                 "compared through their mean features or their Gram "
                 "matrices (style)"))

property_string (layer_subset, _("Layers"), "")
  description (_("The layers whose terms make up the distance, e.g. \"3\" or "
                 "\"1,2,3\"; empty: the network's default (all for LPIPS "
                 "networks, the four stages for ResNets)"))

property_string (status, _("Status"), "")
  description (_("What the last computation compared, or why it could not"))
  ui_meta ("role", "output-extent")
