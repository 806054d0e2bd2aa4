/* With a German locale, the ops' titles, property labels and enum value
 * names come back translated through GEGL's API.  Run by test_translation.py,
 * which provides the locale and the catalogue.
 */
#include <locale.h>
#include <string.h>
#include <gegl.h>
#include <gegl-plugin.h>

#include "support/test-util.h"

static GParamSpec *
find_property (const char *op, const char *name)
{
  guint        n;
  GParamSpec **specs = gegl_operation_list_properties (op, &n);
  GParamSpec  *found = NULL;

  for (guint i = 0; i < n; i++)
    if (!strcmp (specs[i]->name, name))
      found = specs[i];
  g_free (specs);
  return found;
}

int
main (int argc, char **argv)
{
  GParamSpec *spec;
  GEnumValue *value;

  if (!setlocale (LC_ALL, ""))
    {
      g_printerr ("the locale in the environment is not available\n");
      return 1;
    }
  test_setup (&argc, &argv);
  gegl_init (&argc, &argv);

  g_assert_cmpstr (gegl_operation_get_key ("perceptual:distance", "title"), ==,
                   "Wahrnehmungsabstandskarte");
  g_assert_cmpstr (gegl_operation_get_key ("perceptual:heatmap", "title"), ==,
                   "Wahrnehmungsunterschied als Wärmebild");

  spec = find_property ("perceptual:distance", "network");
  g_assert_nonnull (spec);
  g_assert_cmpstr (g_param_spec_get_nick (spec), ==, "Netz");
  spec = find_property ("perceptual:heatmap", "opacity");
  g_assert_cmpstr (g_param_spec_get_nick (spec), ==, "Deckkraft");
  g_assert_cmpstr (g_param_spec_get_blurb (spec), ==,
                   "Wie stark die Farben das Bild am Ende des Bereichs überdecken; kleinere Abstände überdecken es weniger");
  spec = find_property ("perceptual:distance", "calibration");
  value = g_enum_get_value (G_PARAM_SPEC_ENUM (spec)->enum_class, 2);
  g_assert_cmpstr (value->value_name, ==, "Ungewichtet");
  g_assert_cmpstr (value->value_nick, ==, "unweighted");

  g_print ("translated: %s / %s\n",
           gegl_operation_get_key ("perceptual:distance", "title"),
           g_param_spec_get_nick (find_property ("perceptual:layer-difference", "layer")));
  gegl_exit ();
  return 0;
}
