#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "gegl/perceptual-settings.h"
#include "perc-error.h"
#include "perceptual-models.h"

static GMutex      lock;
static GHashTable *models;     /* "path:mtime:size" -> PercModel */
static GHashTable *warned;     /* messages already shown */

static const PercModel *
load (const char *path,
      GError    **error)
{
  GStatBuf   st;
  char      *key;
  PercModel *model;

  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_FILE,
                   _("%s: no such weights file"), path);
      return NULL;
    }
  key = g_strdup_printf ("%s:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, path,
                         (gint64) st.st_mtime, (gint64) st.st_size);
  g_mutex_lock (&lock);
  if (!models)
    models = g_hash_table_new (g_str_hash, g_str_equal);
  model = g_hash_table_lookup (models, key);
  if (!model)
    {
      model = perc_model_load (path, perceptual_settings_microkernel (), error);
      if (model)
        {
          char *blis = perc_microkernel_describe (&model->microkernel);

          g_debug ("loaded %s; %s", path, blis);
          g_free (blis);
          g_hash_table_insert (models, key, model);
          key = NULL;
        }
    }
  g_mutex_unlock (&lock);
  g_free (key);
  return model;
}

const PercModel *
perceptual_models_get (const PerceptualChoice *choice,
                       PercMetric             *metric,
                       GError                **error)
{
  const char      *name = perceptual_network_name (choice->network);
  gboolean         from_file = choice->network == PERCEPTUAL_NETWORK_FILE;
  gboolean         default_cal = choice->calibration == PERCEPTUAL_CALIBRATION_DEFAULT;
  const PercModel *model;
  char            *path;

  metric->calibration = default_cal ? perc_calibration_default (name)
                                    : (PercCalibration) choice->calibration;
  metric->kind = (PercDistanceKind) choice->function;
  metric->layers = 0;
  /* An empty or folder `weights` (GEGL's XML writer saves an empty path,
   * which GEGL's XML reader resolves to the file's folder) means the
   * installed model.
   */
  if (choice->weights && *choice->weights &&
      !g_file_test (choice->weights, G_FILE_TEST_IS_DIR))
    path = g_strdup (choice->weights);
  else if (from_file)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_FILE,
                   _("the network is to come from the weights file, but no "
                     "weights file is given"));
      return NULL;
    }
  else
    path = perc_model_locate (name, metric->calibration, perceptual_settings_weights_dirs (),
                              error);
  model = path ? load (path, error) : NULL;
  if (model && !from_file && g_strcmp0 (model->net->name, name))
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                   _("%s holds a model of the %s network, but the network chosen is %s"),
                   path, model->net->name, name);
      model = NULL;
    }
  /* A file's own calibration is its default. */
  if (model && from_file && default_cal)
    metric->calibration = model->calibration;
  if (model && !perc_layers_parse (choice->layers, model, &metric->layers, error))
    model = NULL;
  if (model && !(metric->layers = perc_metric_check (model, metric, error)))
    model = NULL;
  g_free (path);
  return model;
}

void
perceptual_warn_once (const char *message)
{
  gboolean first;

  g_mutex_lock (&lock);
  if (!warned)
    warned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  first = g_hash_table_add (warned, g_strdup (message));
  g_mutex_unlock (&lock);
  if (first)
    g_warning ("%s", message);
}
