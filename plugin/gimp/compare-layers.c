#include "config.h"

#include <math.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "compare-layers.h"
#include "model/perc-catalog.h"
#include "model/perc-net.h"
#include "gegl/perceptual-connect.h"

const char *const compare_output_nicks[3] = { "heatmap", "distance-map", "layer-difference" };

void
compare_bind_domain (void)
{
  const char *localedir = g_getenv ("GEGL_PERCEPTUAL_LOCALEDIR");

  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static const char *const op_names[] = {
  "perceptual:heatmap", "perceptual:distance", "perceptual:layer-difference"
};

gboolean
compare_ops_available (GError **error)
{
  char *user_dir;

  for (guint i = 0; i < G_N_ELEMENTS (op_names); i++)
    if (!gegl_has_operation (op_names[i]))
      {
        user_dir = g_build_filename (g_get_user_data_dir (), "gegl-0.4", "plug-ins", NULL);
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     _("The perceptual GEGL operations are not installed: put "
                       "gegl-perceptual.so into GEGL's module folder or into %s"),
                     user_dir);
        g_free (user_dir);
        return FALSE;
      }
  return TRUE;
}

const char *
compare_network_label (const char *network)
{
  const PercNetInfo *info = perc_net_builtin (network);

  return info ? _(info->label) : network;
}

/* The ops' value of an enum property from its nick; -1 if unknown. */
static int
enum_value (const char *operation,
            const char *property,
            const char *nick)
{
  GParamSpec *pspec = gegl_operation_find_property (operation, property);
  GEnumValue *v;

  if (!pspec || !G_IS_PARAM_SPEC_ENUM (pspec) || !nick)
    return -1;
  v = g_enum_get_value_by_nick (G_PARAM_SPEC_ENUM (pspec)->enum_class, nick);
  return v ? v->value : -1;
}

/* The calibration the settings mean for their network. */
static PercCalibration
calibration_of (const CompareSettings *s)
{
  PercCalibration c;

  if (!perc_calibration_from_name (s->calibration, &c))
    c = perc_calibration_default (s->network);
  return c;
}

gboolean
compare_check_settings (const CompareSettings *s,
                        GError               **error)
{
  const PercNetInfo *info = perc_net_builtin (s->network);
  PercCalibration        c;

  if (!info)
    {
      char *known = perc_net_builtin_names (", ");

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“network” must be one of %s, not “%s”"), known,
                   s->network ? s->network : "");
      g_free (known);
      return FALSE;
    }
  if (g_strcmp0 (s->calibration, "default") &&
      !perc_calibration_from_name (s->calibration, &c))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“calibration” must be default, lpips-v0.1, lpips-v0.0 or "
                     "unweighted, not “%s”"), s->calibration ? s->calibration : "");
      return FALSE;
    }
  c = calibration_of (s);
  if (c != PERC_CALIBRATION_UNWEIGHTED && !info->lpips)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s has no LPIPS calibration: choose “unweighted” or the "
                     "network's default"), _(info->label));
      return FALSE;
    }
  if ((guint) s->output >= G_N_ELEMENTS (compare_output_nicks))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“output” must be heatmap, distance-map or layer-difference"));
      return FALSE;
    }
  if (s->output == COMPARE_HEATMAP &&
      enum_value ("perceptual:heatmap", "colormap", s->colormap) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“colormap” must be magma, inferno, viridis, turbo or gray, "
                     "not “%s”"), s->colormap ? s->colormap : "");
      return FALSE;
    }
  if (s->output == COMPARE_HEATMAP && !(s->opacity >= 0.0 && s->opacity <= 1.0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“opacity” must be between 0 and 1, not %g"), s->opacity);
      return FALSE;
    }
  if (s->output == COMPARE_LAYER_DIFFERENCE &&
      (s->layer < 1 || s->layer > info->n_taps))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s has layers 1 to %d: there is no layer %d"),
                   _(info->label), info->n_taps, s->layer);
      return FALSE;
    }
  return TRUE;
}

/* Where the ops look for installed models (GIMP's plug-in process has the
 * same environment as its GEGL).
 */
static char **
weights_dirs (void)
{
  static char **dirs;

  if (!dirs)
    dirs = perc_model_search_dirs (g_getenv ("GEGL_PERCEPTUAL_WEIGHTS_PATH"),
                                   g_get_user_data_dir (), PERCEPTUAL_WEIGHTS_DIR);
  return dirs;
}

gboolean
compare_model_installed (const char *network,
                         const char *calibration)
{
  CompareSettings s = { network, calibration, 0, 1, NULL, 0 };
  char           *path = perc_model_locate (network, calibration_of (&s),
                                            (const char *const *) weights_dirs (), NULL);

  g_free (path);
  return path != NULL;
}

char *
compare_missing_models (const char *calibration)
{
  GString    *names = g_string_new (NULL);
  const char *first = NULL;

  for (const PercNetInfo *n = perc_net_builtins (); n->name; n++)
    if (!compare_model_installed (n->name, calibration))
      {
        if (names->len)
          g_string_append (names, ", ");
        g_string_append (names, _(n->label));
        first = first ? first : n->name;
      }
  if (!first)
    return g_string_free (names, TRUE), NULL;
  /* The command names a network: the first one missing, as an example. */
  return g_strdup_printf (_("Not installed: %s. Install a model with the "
                            "command “gegl-perceptual fetch %s” (see the "
                            "README's Weights section), then open this "
                            "dialog again."),
                          g_string_free (names, FALSE), first);
}

char *
compare_size_mismatch (const char          *reference,
                       const GeglRectangle *r,
                       const char          *compared,
                       const GeglRectangle *c)
{
  return g_strdup_printf (_("The layers differ in size or position: the "
                            "reference “%s” is %d×%d pixels at (%d, %d), the "
                            "compared “%s” is %d×%d pixels at (%d, %d). Make a "
                            "copy of one the size of the other with Layer > "
                            "Scale Layer... and give both the same position; "
                            "Layer > Layer to Image Size does not help: it pads "
                            "with transparency, which the distance does not "
                            "see."),
                          reference, r->width, r->height, r->x, r->y,
                          compared, c->width, c->height, c->x, c->y);
}

gboolean
compare_check_padding (GeglBuffer *buffer,
                       const char *name,
                       GError    **error)
{
  const GeglRectangle *e = gegl_buffer_get_extent (buffer);
  int                  x0 = e->x + e->width, x1 = e->x - 1;
  int                  y0 = e->y + e->height, y1 = e->y - 1;
  GeglBufferIterator  *it;

  if (!babl_format_has_alpha (gegl_buffer_get_format (buffer)))
    return TRUE;
  /* The bounding box of the pixels that are not wholly transparent. */
  it = gegl_buffer_iterator_new (buffer, e, 0, babl_format ("RGBA float"),
                                 GEGL_ACCESS_READ, GEGL_ABYSS_NONE, 1);
  while (gegl_buffer_iterator_next (it))
    {
      const GeglRectangle *r = &it->items[0].roi;
      const float         *p = it->items[0].data;

      for (int y = 0; y < r->height; y++)
        for (int x = 0; x < r->width; x++)
          if (p[((gsize) y * r->width + x) * 4 + 3] > 0.0f)
            {
              x0 = MIN (x0, r->x + x);
              x1 = MAX (x1, r->x + x);
              y0 = MIN (y0, r->y + y);
              y1 = MAX (y1, r->y + y);
            }
    }
  if (x0 == e->x && y0 == e->y && x1 == e->x + e->width - 1 &&
      y1 == e->y + e->height - 1)
    return TRUE;
  if (x1 < x0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 _("“%s” is wholly transparent: there is nothing to compare"),
                 name);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 _("“%s” has a transparent border: only %d×%d of its %d×%d "
                   "pixels are visible. The distance ignores alpha and would "
                   "compare what lies under the transparency: crop the layers "
                   "to the visible part (Layer > Crop to Content), or scale "
                   "a copy instead of padding it (Layer > Scale Layer...)"),
                 name, x1 - x0 + 1, y1 - y0 + 1, e->width, e->height);
  return FALSE;
}


/* Computing. */

struct _CompareJob
{
  CompareSettings  settings;
  GeglBuffer      *reference, *compared;
  GeglNode        *graph, *op, *last;
  double           distance, term;
  CompareProgress  progress;
  gpointer         progress_data;
};

CompareJob *
compare_job_new (GeglBuffer            *reference,
                 GeglBuffer            *compared,
                 const CompareSettings *settings)
{
  CompareJob *job = g_new0 (CompareJob, 1);
  const Babl *space = babl_format_get_space (gegl_buffer_get_format (compared));
  GeglNode   *ref, *cmp;
  const char *op = op_names[settings->output];

  job->settings = *settings;
  job->reference = g_object_ref (reference);
  job->compared = g_object_ref (compared);
  job->distance = job->term = NAN;
  job->graph = gegl_node_new ();
  ref = gegl_node_new_child (job->graph, "operation", "gegl:buffer-source",
                             "buffer", reference, NULL);
  cmp = gegl_node_new_child (job->graph, "operation", "gegl:buffer-source",
                             "buffer", compared, NULL);
  job->op = gegl_node_new_child (job->graph, "operation", op,
                                 "network", enum_value (op, "network", settings->network),
                                 "calibration", enum_value (op, "calibration",
                                                            settings->calibration),
                                 NULL);
  if (settings->output == COMPARE_HEATMAP)
    gegl_node_set (job->op,
                   "colormap", enum_value (op, "colormap", settings->colormap),
                   "opacity", settings->opacity,
                   NULL);
  else if (settings->output == COMPARE_LAYER_DIFFERENCE)
    gegl_node_set (job->op, "layer", settings->layer, NULL);
  perceptual_connect (ref, job->op, "input");
  perceptual_connect (cmp, job->op, "aux");

  job->last = job->op;
  /* The gray maps: the value is the encoded gray level, clipped to 0..1. */
  if (settings->output != COMPARE_HEATMAP)
    {
      GeglNode *clip = gegl_node_new_child (job->graph, "operation", "gegl:rgb-clip", NULL);
      GeglNode *cast = gegl_node_new_child (job->graph, "operation", "gegl:cast-format",
                                            "input-format", babl_format ("RGB float"),
                                            "output-format",
                                            babl_format_with_space ("R'G'B' float", space),
                                            NULL);

      gegl_node_link_many (job->op, clip, cast, NULL);
      job->last = cast;
    }
  return job;
}

static void
forward_progress (GeglNode   *node G_GNUC_UNUSED,
                  double      progress,
                  CompareJob *job)
{
  if (job->progress)
    job->progress (CLAMP (progress, 0.0, 1.0), job->progress_data);
}

gboolean
compare_job_run (CompareJob      *job,
                 CompareProgress  progress,
                 gpointer         progress_data,
                 GError         **error)
{
  GeglRectangle box = gegl_node_get_bounding_box (job->op);
  GeglBuffer   *map = gegl_buffer_new (&box, babl_format ("Y u8"));
  char         *status = NULL;
  gulong        handler;

  job->progress = progress;
  job->progress_data = progress_data;
  handler = g_signal_connect (job->op, "progress", G_CALLBACK (forward_progress), job);
  /* The whole map: then the distance comes from its blocks, and writing
   * the result comes from the op's cache.
   */
  gegl_node_blit_buffer (job->op, map, &box, 0, GEGL_ABYSS_NONE);
  g_object_unref (map);
  g_signal_handler_disconnect (job->op, handler);

  gegl_node_get (job->op, "distance", &job->distance, "status", &status, NULL);
  if (job->settings.output == COMPARE_LAYER_DIFFERENCE)
    gegl_node_get (job->op, "term", &job->term, NULL);
  if (!isfinite (job->distance))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           status && *status ? status :
                           _("The perceptual distance could not be computed"));
      g_free (status);
      return FALSE;
    }
  g_free (status);
  if (progress)
    progress (1.0, progress_data);
  return TRUE;
}

double
compare_job_distance (const CompareJob *job)
{
  return job->distance;
}

double
compare_job_term (const CompareJob *job)
{
  return job->term;
}

void
compare_job_write (CompareJob *job,
                   GeglBuffer *target)
{
  GeglNode *sink = gegl_node_new_child (job->graph, "operation", "gegl:write-buffer",
                                        "buffer", target, NULL);

  gegl_node_link (job->last, sink);
  gegl_node_process (sink);
}

void
compare_job_free (CompareJob *job)
{
  if (!job)
    return;
  g_object_unref (job->graph);
  g_object_unref (job->reference);
  g_object_unref (job->compared);
  g_free (job);
}


/* Texts. */

char *
compare_layer_name (const CompareSettings *s,
                    double                 distance,
                    double                 term)
{
  const char *cal = perc_calibration_name (calibration_of (s));

  switch (s->output)
    {
    case COMPARE_DISTANCE_MAP:
      return g_strdup_printf (_("Perceptual distance map (%s, %s): %.4f"),
                              s->network, cal, distance);
    case COMPARE_LAYER_DIFFERENCE:
      return g_strdup_printf (_("Layer %d difference (%s, %s): term %.4f"),
                              s->layer, s->network, cal, term);
    default:
      return g_strdup_printf (_("Perceptual heatmap (%s, %s): %.4f"),
                              s->network, cal, distance);
    }
}

char *
compare_report (const CompareSettings *s,
                const char            *compared,
                const char            *reference,
                double                 distance)
{
  return g_strdup_printf (_("Perceptual distance of “%s” from “%s” (%s, %s): "
                            "%.4f\n\n"
                            "0 means no visible difference. With SqueezeNet "
                            "and LPIPS v0.1, a change below about 0.01 is hard "
                            "to see, up to about 0.05 it shows when one looks "
                            "closely (a local retouch, JPEG at quality 50 to "
                            "85), and from about 0.15 it is obvious (see "
                            "“Reading the distance” in the README)."),
                          compared, reference, compare_network_label (s->network),
                          perc_calibration_name (calibration_of (s)), distance);
}
