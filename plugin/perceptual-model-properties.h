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
               PERCEPTUAL_CALIBRATION_LPIPS_V0_1)
  description (_("LPIPS's learned weights per feature channel (v0.1 or v0.0), "
                 "or the same weight for every channel"))

property_file_path (weights, _("Weights file"), "")
  description (_("A model file made by gegl-perceptual-convert; empty uses the "
                 "installed model for the network and calibration"))

property_string (status, _("Status"), "")
  description (_("What the last computation compared, or why it could not"))
  ui_meta ("role", "output-extent")
