#include <string.h>
#include <glib/gi18n-lib.h>

#include "model/perc-catalog.h"
#include "model/perc-net.h"
#include "perc-error.h"

static const char *const calibration_names[] = {
  [PERC_CALIBRATION_LPIPS_V0_1] = "lpips-v0.1",
  [PERC_CALIBRATION_LPIPS_V0_0] = "lpips-v0.0",
  [PERC_CALIBRATION_UNWEIGHTED] = "unweighted",
};

const char *
perc_calibration_name (PercCalibration calibration)
{
  g_return_val_if_fail (calibration < G_N_ELEMENTS (calibration_names), NULL);
  return calibration_names[calibration];
}

gboolean
perc_calibration_from_name (const char      *name,
                            PercCalibration *calibration)
{
  for (guint i = 0; i < G_N_ELEMENTS (calibration_names); i++)
    if (!g_strcmp0 (name, calibration_names[i]))
      {
        *calibration = i;
        return TRUE;
      }
  return FALSE;
}

PercCalibration
perc_calibration_default (const char *network)
{
  const PercNetInfo *info = perc_net_builtin (network);

  return info && info->lpips ? PERC_CALIBRATION_LPIPS_V0_1 : PERC_CALIBRATION_UNWEIGHTED;
}

char *
perc_model_file_name (const char     *network,
                      PercCalibration calibration)
{
  return g_strdup_printf ("%s-%s.safetensors", network,
                          perc_calibration_name (calibration));
}

char **
perc_model_search_dirs (const char *path_list,
                        const char *user_data_dir,
                        const char *installed_dir)
{
  GPtrArray *dirs = g_ptr_array_new ();

  if (path_list && *path_list)
    {
      char **parts = g_strsplit (path_list, G_SEARCHPATH_SEPARATOR_S, -1);

      for (char **p = parts; *p; p++)
        if (**p)
          g_ptr_array_add (dirs, g_strdup (*p));
      g_strfreev (parts);
    }
  if (user_data_dir)
    g_ptr_array_add (dirs, g_build_filename (user_data_dir, "gegl-perceptual", "weights",
                                             NULL));
  if (installed_dir)
    g_ptr_array_add (dirs, g_strdup (installed_dir));
  g_ptr_array_add (dirs, NULL);
  return (char **) g_ptr_array_free (dirs, FALSE);
}

char *
perc_model_locate (const char        *network,
                   PercCalibration    calibration,
                   const char *const *dirs,
                   GError           **error)
{
  /* An unweighted distance needs only the backbone, which every
   * calibrated file of the network has too.
   */
  static const PercCalibration fallbacks[] = {
    PERC_CALIBRATION_UNWEIGHTED,
    PERC_CALIBRATION_LPIPS_V0_1,
    PERC_CALIBRATION_LPIPS_V0_0,
  };
  char    *searched, *name;
  guint    n = calibration == PERC_CALIBRATION_UNWEIGHTED ? G_N_ELEMENTS (fallbacks) : 1;

  for (guint i = 0; i < n; i++)
    {
      name = perc_model_file_name (network, n > 1 ? fallbacks[i] : calibration);
      for (const char *const *d = dirs; *d; d++)
        {
          char *path = g_build_filename (*d, name, NULL);

          if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
            {
              g_free (name);
              return path;
            }
          g_free (path);
        }
      g_free (name);
    }

  name = perc_model_file_name (network, calibration);
  searched = g_strjoinv (", ", (char **) dirs);
  g_set_error (error, PERC_ERROR, PERC_ERROR_FILE,
               /* TRANSLATORS: a network (squeeze, alex, vgg, resnet18, ...),
                * a file name, the folders searched, the network again and a
                * calibration (lpips-v0.1, lpips-v0.0, unweighted); the
                * command in quotes is typed as it is.
                */
               _("no %s model installed (looked for %s in %s); install it with "
                 "\"gegl-perceptual-fetch %s --calibration %s\""),
               network, name, searched, network,
               perc_calibration_name (calibration));
  g_free (searched);
  g_free (name);
  return NULL;
}
