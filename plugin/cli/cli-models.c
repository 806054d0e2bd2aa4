/* gegl-perceptual models: what is installed where, and how to get the
 * rest; gegl-perceptual fetch: the weights tool.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "cli.h"
#include "gegl/perceptual-settings.h"
#include "model/perc-model.h"

static const PercCalibration calibrations[] = {
  PERC_CALIBRATION_LPIPS_V0_1, PERC_CALIBRATION_LPIPS_V0_0, PERC_CALIBRATION_UNWEIGHTED
};

int
cli_models (int argc, char **argv)
{
  const char *const *dirs = perceptual_settings_weights_dirs ();
  gboolean json = argc > 1 && !g_strcmp0 (argv[1], "--json");
  int      n_found = 0;

  if (argc > 1 && !json)
    {
      printf ("%s", _("Usage: gegl-perceptual models [--json]\n"
                      "Lists the models found in the search path and how to install the others.\n"));
      return g_strcmp0 (argv[1], "--help") ? 2 : 0;
    }
  if (!json)
    {
      printf (_("Search path (first match wins):\n"));
      for (const char *const *d = dirs; *d; d++)
        printf ("  %s\n", *d);
      printf ("\n%-8s %-11s %-12s %s\n", _("network"), _("calibration"), _("digest"), _("file"));
    }
  for (const PercNetInfo *net = perc_net_builtins (); net->name; net++)
    for (guint c = 0; c < G_N_ELEMENTS (calibrations); c++)
      {
        GError *error = NULL;
        char   *path = perc_model_locate (net->name, calibrations[c], dirs, &error);
        char   *file = perc_model_file_name (net->name, calibrations[c]);
        const char *cal = perc_calibration_name (calibrations[c]);

        /* Only the LPIPS networks have published calibrations. */
        if (calibrations[c] != PERC_CALIBRATION_UNWEIGHTED &&
            !net->lpips)
          {
            g_free (path);
            g_free (file);
            g_clear_error (&error);
            continue;
          }

        if (path)
          {
            PercSafetensors *st = perc_safetensors_load (path, &error);
            PercModel       *model = st ? perc_model_new (st, perceptual_settings_microkernel (), &error) : NULL;
            const char      *digest = st ? perc_safetensors_metadata (st, "backbone_digest") : NULL;
            char            *p = cli_json_string (path);

            n_found += model != NULL;
            if (json)
              {
                char *e = error ? cli_json_string (error->message) : NULL;
                char *d = cli_json_string (digest ? digest : "");

                printf ("{\"network\": \"%s\", \"calibration\": \"%s\", \"file\": %s, "
                        "\"backbone_digest\": %s, \"valid\": %s%s%s}\n",
                        net->name, cal, p, d,
                        model ? "true" : "false", e ? ", \"error\": " : "", e ? e : "");
                g_free (d);
                g_free (e);
              }
            else
              {
                /* The file's own text: shown only when it is a digest. */
                gboolean hex = digest && *digest &&
                               strspn (digest, "0123456789abcdef") == strlen (digest);

                printf ("%-8s %-11s %-12.12s %s\n", net->name, cal,
                        hex ? digest : "-", path);
                if (error)
                  printf (_("         unusable: %s\n"), error->message);
              }
            g_free (p);
            perc_model_free (model);
            perc_safetensors_free (st);
          }
        /* The LPIPS networks' unweighted distance needs no file of its own. */
        else if (calibrations[c] != PERC_CALIBRATION_UNWEIGHTED ||
                 !net->lpips)
          {
            if (json)
              printf ("{\"network\": \"%s\", \"calibration\": \"%s\", \"installed\": false, "
                      "\"install\": \"gegl-perceptual fetch %s --calibration %s\"}\n",
                      net->name, cal, net->name, cal);
            else
              printf (_("%-8s %-11s %-12s not installed: gegl-perceptual fetch %s --calibration %s\n"),
                      net->name, cal, "-", net->name, cal);
          }
        g_clear_error (&error);
        g_free (path);
        g_free (file);
      }
  if (!json)
    printf (_("\nfetch takes the official files from a mirror folder (--mirror DIR or "
              "GEGL_PERCEPTUAL_WEIGHTS_MIRROR) or downloads them.\n"));
  return 0;
}

int
cli_fetch (int argc, char **argv)
{
  const char *dir = g_getenv ("GEGL_PERCEPTUAL_TOOLS_DIR");
  char       *tool = g_build_filename (dir && *dir ? dir : PERCEPTUAL_TOOLS_DIR, "fetch", NULL);

  argv[0] = tool;
  execv (tool, argv);
  cli_error (_("cannot run the weights tool %s: %s"), tool, g_strerror (errno));
  g_free (tool);
  return 1;
}
