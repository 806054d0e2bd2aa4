#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "gegl/perceptual-settings.h"
#include "perc-error.h"
#include "perceptual-models.h"

/* A loaded model and who uses it.  A file that changes on disk is loaded
 * again; the old model is stale, and freed once nothing uses it.
 */
typedef struct
{
  char      *version;   /* "mtime:size" of the file it came from */
  PercModel *model;
  int        users;
  gboolean   stale;
} Entry;

static GMutex      lock;
static GHashTable *by_path;    /* path -> its current Entry */
static GHashTable *by_model;   /* PercModel -> Entry, stale ones included */
static GHashTable *warned;     /* messages already shown */
static gboolean    quiet;      /* the command line reports errors itself */

static void
entry_free (Entry *e)
{
  g_debug ("freed %s", e->model->path);
  g_hash_table_remove (by_model, e->model);
  perc_model_free (e->model);
  g_free (e->version);
  g_free (e);
}

static const PercModel *
load (const char *path,
      GError    **error)
{
  GStatBuf   st;
  char      *version;
  Entry     *e;

  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_FILE,
                   _("%s: no such weights file"), path);
      return NULL;
    }
  version = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                             (gint64) st.st_mtime, (gint64) st.st_size);
  g_mutex_lock (&lock);
  if (!by_path)
    {
      by_path = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      by_model = g_hash_table_new (g_direct_hash, g_direct_equal);
    }
  e = g_hash_table_lookup (by_path, path);
  if (e && strcmp (e->version, version))
    {
      /* Superseded: freed now, or by the last user to let it go. */
      e->stale = TRUE;
      g_hash_table_remove (by_path, path);
      if (!e->users)
        entry_free (e);
      e = NULL;
    }
  if (!e)
    {
      PercModel *model = perc_model_load (path, perceptual_settings_microkernel (), error);

      if (model)
        {
          char *blis = perc_microkernel_describe (&model->microkernel);

          g_debug ("loaded %s; %s", path, blis);
          g_free (blis);
          e = g_new0 (Entry, 1);
          e->version = g_steal_pointer (&version);
          e->model = model;
          g_hash_table_insert (by_path, g_strdup (path), e);
          g_hash_table_insert (by_model, model, e);
        }
    }
  if (e)
    e->users++;
  g_mutex_unlock (&lock);
  g_free (version);
  return e ? e->model : NULL;
}

void
perceptual_models_release (const PercModel *model)
{
  Entry *e;

  if (!model)
    return;
  g_mutex_lock (&lock);
  e = g_hash_table_lookup (by_model, model);
  g_assert (e && e->users > 0);
  if (!--e->users && e->stale)
    entry_free (e);
  g_mutex_unlock (&lock);
}

const PercModel *
perceptual_models_hold (const PercModel *model)
{
  Entry *e;

  g_mutex_lock (&lock);
  e = g_hash_table_lookup (by_model, model);
  g_assert (e && e->users > 0);
  e->users++;
  g_mutex_unlock (&lock);
  return model;
}

const PercModel *
perceptual_models_get (const PerceptualChoice *choice,
                       PercMetric             *metric,
                       GError                **error)
{
  const char      *name = perceptual_network_name (choice->network);
  gboolean         from_file = choice->network == perceptual_network_file ();
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
  g_free (path);
  if (!model)
    return NULL;
  if (!from_file && g_strcmp0 (model->net->name, name))
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                   _("%s holds a model of the %s network, but the network chosen is %s"),
                   model->path, model->net->name, name);
      perceptual_models_release (model);
      return NULL;
    }
  /* A file's own calibration is its default. */
  if (from_file && default_cal)
    metric->calibration = model->calibration;
  if (!perc_layers_parse (choice->layers, model, &metric->layers, error) ||
      !(metric->layers = perc_metric_check (model, metric, error)))
    {
      perceptual_models_release (model);
      return NULL;
    }
  return model;
}

void
perceptual_set_warnings (gboolean on)
{
  g_mutex_lock (&lock);
  quiet = !on;
  g_mutex_unlock (&lock);
}

void
perceptual_warn_once (const char *message)
{
  gboolean first;

  g_mutex_lock (&lock);
  if (!warned)
    warned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  first = g_hash_table_add (warned, g_strdup (message)) && !quiet;
  g_mutex_unlock (&lock);
  /* A message in GEGL's domain: GIMP shows those to its user (in its
   * error console or a message box), but sends GEGL's warnings, which it
   * takes for bugs, to stderr, as it does other domains.
   */
  if (first)
    g_log ("GEGL", G_LOG_LEVEL_MESSAGE, "%s", message);
}
