/* The properties of the ops that colour a distance map: how it looks.
 * Included inside an op's GEGL_PROPERTIES section, which GEGL's chant
 * reads several times: so no include guard.
 */

property_enum (colormap, _("Colour map"),
               PerceptualColormapName, perceptual_colormap_name,
               PERCEPTUAL_COLORMAP_MAGMA)
  description (_("How distances become colours, from small to large"))

property_boolean (auto_range, _("Automatic range"), FALSE)
  description (_("Stretch the colour map from 0 to the largest distance in "
                 "this map, instead of the fixed range below (which gives "
                 "the same colour to the same distance in every image)"))

property_double (range_min, _("Range start"), 0.0)
  description (_("The distance shown with the colour map's first colour, "
                 "fully transparent"))
  value_range (0.0, 100.0)
  ui_range (0.0, 2.0)

property_double (range_max, _("Range end"), PERCEPTUAL_SCALE_MAX)
  description (_("The distance shown with the colour map's last colour, at "
                 "the full opacity"))
  value_range (0.0, 100.0)
  ui_range (0.0, 2.0)

property_double (opacity, _("Opacity"), 0.8)
  description (_("How much the colours cover the image at the end of the "
                 "range; smaller distances cover it less"))
  value_range (0.0, 1.0)
