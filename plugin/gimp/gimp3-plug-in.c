/* perceptual-compare for GIMP 3: compares the selected layer with a
 * reference layer through the perceptual ops and adds the result as a new
 * layer.  Colors > Info > Perceptual Distance..., and the PDB procedure
 * plug-in-perceptual-compare:
 *
 *   run-mode, image, drawables   exactly one drawable: the compared layer
 *   reference    layer      the reference; none: the layer below (layers
 *                           this plug-in made are passed over)
 *   network      choice     a network of the ops ("squeeze", ..., "resnet50")
 *   calibration  choice     "default", "lpips-v0.1", "lpips-v0.0", "unweighted"
 *   output       choice     "heatmap", "distance-map", "layer-difference"
 *   layer        int        the network layer for "layer-difference", 1-based
 *   colormap     choice     the heatmap's colour map
 *   opacity      double     the heatmap's opacity, 0..1
 *
 * returns the new layer ("layer") and the distance ("distance").
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "compare-layers.h"
#include "model/perc-catalog.h"
#include "model/perc-net.h"

#define PLUG_IN_BINARY "perceptual-compare"
#define PLUG_IN_ROLE   "gegl-perceptual-compare"

typedef struct { GimpPlugIn parent_instance; } PerceptualCompare;
typedef struct { GimpPlugInClass parent_class; } PerceptualCompareClass;

GType perceptual_compare_get_type (void) G_GNUC_CONST;
G_DEFINE_TYPE (PerceptualCompare, perceptual_compare, GIMP_TYPE_PLUG_IN)

static GimpValueArray *run (GimpProcedure        *procedure,
                            GimpRunMode           run_mode,
                            GimpImage            *image,
                            GimpDrawable        **drawables,
                            GimpProcedureConfig  *config,
                            gpointer              run_data);

static GList *
query_procedures (GimpPlugIn *plug_in)
{
  char  *help = g_build_filename (PERCEPTUAL_HELP_DIR, NULL);
  GFile *uri = g_file_new_for_path (help);

  gimp_plug_in_set_help_domain (plug_in, PERCEPTUAL_HELP_DOMAIN, uri);
  g_object_unref (uri);
  g_free (help);
  return g_list_append (NULL, g_strdup (COMPARE_PROC));
}

/* The project's catalogue lies under the prefix's locale folder, which
 * GIMP's own lookup (a folder beside the plug-in) cannot name: bind it
 * here and tell GIMP to leave translation alone.
 */
static gboolean
set_i18n (GimpPlugIn   *plug_in G_GNUC_UNUSED,
          const gchar  *procedure_name G_GNUC_UNUSED,
          gchar       **gettext_domain G_GNUC_UNUSED,
          gchar       **catalog_dir G_GNUC_UNUSED)
{
  compare_bind_domain ();
  return FALSE;
}

static GimpChoice *
network_choice (void)
{
  GimpChoice *choice = gimp_choice_new ();
  int         id = 0;

  for (const PercNetInfo *n = perc_net_builtins (); n->name; n++)
    {
      char *help = g_strdup_printf (_("%d layers; images of at least %d×%d pixels"),
                                    n->n_taps, n->min_size, n->min_size);

      gimp_choice_add (choice, n->name, id++, _(n->label), help);
      g_free (help);
    }
  return choice;
}

static GimpProcedure *
create_procedure (GimpPlugIn  *plug_in,
                  const gchar *name)
{
  GimpProcedure *procedure;
  int            max_layers = 1;

  if (strcmp (name, COMPARE_PROC))
    return NULL;
  for (const PercNetInfo *n = perc_net_builtins (); n->name; n++)
    max_layers = MAX (max_layers, n->n_taps);

  procedure = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                        run, NULL, NULL);
  gimp_procedure_set_image_types (procedure, "*");
  gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (procedure, _("Perceptual _Distance..."));
  gimp_procedure_add_menu_path (procedure, "<Image>/Colors/Info");
  gimp_procedure_set_documentation (procedure,
    _("Compare two layers with a learned perceptual distance (LPIPS)"),
    _("Computes how different the selected layer looks from a reference "
      "layer of the same size and position (by default the layer below) "
      "with the LPIPS distance of a network's features, and adds a new "
      "layer above the compared one: a heatmap of where they differ over "
      "the reference, the distance map in gray, or one network layer's "
      "difference image in gray (values above 1 are white). It returns "
      "the new layer and the distance. Alpha is ignored: the colour "
      "channels are compared as stored. The models are installed with "
      "gegl-perceptual fetch."),
    COMPARE_PROC);
  gimp_procedure_set_attribution (procedure, "gegl-perceptual", "gegl-perceptual", "2026");

  gimp_procedure_add_layer_argument (procedure, "reference", _("_Reference layer"),
    _("The layer the selected one is compared with, of the same size and "
      "position; none: the layer below"),
    TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "network", _("_Network"),
    _("The ImageNet network whose features are compared; greyed out: no "
      "model installed"),
    network_choice (), "squeeze", G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "calibration", _("_Calibration"),
    _("LPIPS's learned weights per feature channel, or the same weight for "
      "every channel; the network's default is LPIPS v0.1 where LPIPS "
      "calibrated the network, unweighted otherwise"),
    gimp_choice_new_with_values ("default",    0, _("Network's default"), NULL,
                                 "lpips-v0.1", 1, _("LPIPS v0.1"), NULL,
                                 "lpips-v0.0", 2, _("LPIPS v0.0"), NULL,
                                 "unweighted", 3, _("Unweighted"), NULL,
                                 NULL),
    "default", G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "output", _("_Output"),
    _("What the new layer shows"),
    gimp_choice_new_with_values (
      compare_output_nicks[COMPARE_HEATMAP], COMPARE_HEATMAP, _("Heatmap"),
        _("Where the layers differ, in colour over the reference"),
      compare_output_nicks[COMPARE_DISTANCE_MAP], COMPARE_DISTANCE_MAP,
        _("Distance map (gray)"), _("The distance at every pixel; 1 is white"),
      compare_output_nicks[COMPARE_LAYER_DIFFERENCE], COMPARE_LAYER_DIFFERENCE,
        _("One layer's difference (gray)"),
        _("What one layer of the network sees differ; early layers respond "
          "to fine detail, later ones to larger structures"),
      NULL),
    compare_output_nicks[COMPARE_HEATMAP], G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "layer", _("Network _layer"),
    _("The network layer whose difference the new layer shows, from 1 (the "
      "finest) to the network's last"),
    1, max_layers, 1, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "colormap", _("Colour _map"),
    _("How distances become colours in the heatmap, from small to large"),
    gimp_choice_new_with_values ("magma",   0, _("Magma"),   NULL,
                                 "inferno", 1, _("Inferno"), NULL,
                                 "viridis", 2, _("Viridis"), NULL,
                                 "turbo",   3, _("Turbo"),   NULL,
                                 "gray",    4, _("Gray"),    NULL,
                                 NULL),
    "magma", G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "opacity", _("O_pacity"),
    _("How much the heatmap's colours cover the reference"),
    0.0, 1.0, 0.7, G_PARAM_READWRITE);

  gimp_procedure_add_layer_return_value (procedure, "layer", _("New layer"),
    _("The new layer, above the compared one"), FALSE, G_PARAM_READWRITE);
  gimp_procedure_add_double_return_value (procedure, "distance", _("Distance"),
    _("The perceptual distance of the two layers"),
    0.0, G_MAXDOUBLE, 0.0, G_PARAM_READWRITE);
  return procedure;
}

static void
perceptual_compare_class_init (PerceptualCompareClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = query_procedures;
  plug_in_class->create_procedure = create_procedure;
  plug_in_class->set_i18n = set_i18n;
}

static void
perceptual_compare_init (PerceptualCompare *self G_GNUC_UNUSED)
{
}


/* Layers. */

static gboolean
is_result (GimpItem *item)
{
  GimpParasite *p = gimp_item_get_parasite (item, COMPARE_RESULT_PARASITE);

  gimp_parasite_free (p);
  return p != NULL;
}

/* The nearest layer below `layer` in its group that this plug-in did not
 * make, or NULL.
 */
static GimpLayer *
default_reference (GimpImage *image,
                   GimpLayer *layer)
{
  GimpItem   *parent = gimp_item_get_parent (GIMP_ITEM (layer));
  GimpItem  **items = parent ? gimp_item_get_children (parent)
                             : (GimpItem **) gimp_image_get_layers (image);
  GimpLayer  *below = NULL;
  gboolean    past = FALSE;

  for (int i = 0; items && items[i] && !below; i++)
    if (items[i] == GIMP_ITEM (layer))
      past = TRUE;
    else if (past && GIMP_IS_LAYER (items[i]) && !is_result (items[i]))
      below = GIMP_LAYER (items[i]);
  g_free (items);
  return below;
}

static GeglRectangle
area_of (GimpDrawable *d)
{
  GeglRectangle r = { 0, 0, gimp_drawable_get_width (d), gimp_drawable_get_height (d) };

  gimp_drawable_get_offsets (d, &r.x, &r.y);
  return r;
}

/* The refusals before any work; the error says what to do. */
static GimpPDBStatusType
check_layers (GimpImage  *image,
              GimpLayer  *layer,
              const char *name,
              GimpLayer  *reference,
              const char *reference_name,
              GError    **error)
{
  GeglRectangle a, b;
  char         *message;

  if (gimp_image_get_base_type (image) != GIMP_RGB)
    {
      g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                   gimp_image_get_base_type (image) == GIMP_GRAY ?
                   _("Perceptual distances need an RGB image and this one is "
                     "grayscale: convert it with Image > Mode > RGB") :
                   _("Perceptual distances need an RGB image and this one is "
                     "indexed: convert it with Image > Mode > RGB"));
      return GIMP_PDB_EXECUTION_ERROR;
    }
  if (!reference)
    {
      g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                   _("There is no layer below “%s” to compare it with: open the "
                     "reference as a layer below it (File > Open as Layers...), "
                     "or choose the reference"), name);
      return GIMP_PDB_EXECUTION_ERROR;
    }
  if (reference == layer)
    {
      g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                   _("“%s” cannot be compared with itself: choose another layer "
                     "as the reference"), name);
      return GIMP_PDB_CALLING_ERROR;
    }
  if (gimp_item_get_image (GIMP_ITEM (reference)) != image)
    {
      g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                   _("The reference must be another layer of the same image"));
      return GIMP_PDB_CALLING_ERROR;
    }
  a = area_of (GIMP_DRAWABLE (reference));
  b = area_of (GIMP_DRAWABLE (layer));
  if (!gegl_rectangle_equal (&a, &b))
    {
      message = compare_size_mismatch (reference_name, &a, name, &b);
      g_set_error_literal (error, GIMP_PLUG_IN_ERROR, 0, message);
      g_free (message);
      return GIMP_PDB_EXECUTION_ERROR;
    }
  return GIMP_PDB_SUCCESS;
}


/* The dialog. */

typedef struct
{
  GimpProcedureConfig *config;
  GimpChoice          *networks;
  GtkWidget           *missing;
  GimpLayer           *layer;
} Dialog;

/* Grey out the networks without a model for the chosen calibration, and
 * say how to install them.
 */
static void
update_models (Dialog *d)
{
  char *calibration, *missing;

  g_object_get (d->config, "calibration", &calibration, NULL);
  for (const PercNetInfo *n = perc_net_builtins (); n->name; n++)
    gimp_choice_set_sensitive (d->networks, n->name,
                               compare_model_installed (n->name, calibration));
  missing = compare_missing_models (calibration);
  gtk_label_set_text (GTK_LABEL (d->missing), missing ? missing : "");
  gtk_widget_set_visible (d->missing, missing != NULL);
  g_free (missing);
  g_free (calibration);
}

static gboolean
reference_acceptable (GimpImage *image,
                      GimpItem  *item,
                      gpointer   data)
{
  Dialog *d = data;

  return image == gimp_item_get_image (GIMP_ITEM (d->layer)) &&
         item != GIMP_ITEM (d->layer) && !is_result (item);
}

static void
reference_changed (GtkWidget *combo,
                   Dialog    *d)
{
  int id;

  if (gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id))
    g_object_set (d->config, "reference", gimp_layer_get_by_id (id), NULL);
}

static gboolean
dialog_run (GimpProcedure       *procedure,
            GimpProcedureConfig *config,
            GimpLayer           *layer)
{
  static const char *const fields[] = { "network", "calibration", "output", "layer",
                                        "colormap", "opacity" };
  Dialog        d = { config, NULL, NULL, layer };
  GtkWidget    *dialog, *box, *combo, *label, *text, *content;
  int           position = 0;
  GimpLayer    *reference;
  GimpValueArray *values;
  GValue        v = G_VALUE_INIT;
  char         *name = gimp_item_get_name (GIMP_ITEM (layer));
  char         *intro;
  gboolean      ok;

  gimp_ui_init (PLUG_IN_BINARY);
  dialog = gimp_procedure_dialog_new (procedure, config, _("Perceptual Distance"));
  d.networks = gimp_param_spec_choice_get_choice (
                 g_object_class_find_property (G_OBJECT_GET_CLASS (config), "network"));

  intro = g_strdup_printf (_("Compares “%s” with the reference layer and adds the "
                             "result as a new layer above it. Alpha is ignored."),
                           name);
  text = gimp_procedure_dialog_get_label (GIMP_PROCEDURE_DIALOG (dialog), "intro", intro,
                                          FALSE, FALSE);
  g_free (intro);
  g_free (name);
  gtk_label_set_line_wrap (GTK_LABEL (text), TRUE);
  gtk_label_set_xalign (GTK_LABEL (text), 0.0);
  gtk_label_set_max_width_chars (GTK_LABEL (text), 60);

  /* The reference: another layer of this image, not one this plug-in made. */
  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  label = gtk_label_new_with_mnemonic (_("_Reference layer"));
  combo = gimp_layer_combo_box_new (reference_acceptable, &d, NULL);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), combo);
  gimp_help_set_help_data (combo, _("The layer the selected one is compared "
                                    "with, of the same size and position"), NULL);
  g_object_get (config, "reference", &reference, NULL);
  if (reference)
    gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo),
                                   gimp_item_get_id (GIMP_ITEM (reference)));
  g_clear_object (&reference);
  g_signal_connect (combo, "changed", G_CALLBACK (reference_changed), &d);
  gtk_box_pack_start (GTK_BOX (box), label, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), combo, TRUE, TRUE, 0);
  gtk_widget_show_all (box);

  d.missing = gimp_procedure_dialog_get_label (GIMP_PROCEDURE_DIALOG (dialog), "missing", "",
                                               FALSE, FALSE);
  gtk_label_set_line_wrap (GTK_LABEL (d.missing), TRUE);
  gtk_label_set_xalign (GTK_LABEL (d.missing), 0.0);
  gtk_label_set_max_width_chars (GTK_LABEL (d.missing), 60);
  gtk_label_set_selectable (GTK_LABEL (d.missing), TRUE);

  gimp_procedure_dialog_get_scale_entry (GIMP_PROCEDURE_DIALOG (dialog), "opacity", 1.0);
  gimp_procedure_dialog_fill (GIMP_PROCEDURE_DIALOG (dialog), "intro", "network",
                              "missing", "calibration", "output", "layer",
                              "colormap", "opacity", NULL);
  /* Every field's tooltip is its argument's description. */
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    gimp_help_set_help_data (gimp_procedure_dialog_get_widget (GIMP_PROCEDURE_DIALOG (dialog),
                                                               fields[i], G_TYPE_NONE),
                             g_param_spec_get_blurb (g_object_class_find_property (
                               G_OBJECT_GET_CLASS (config), fields[i])), NULL);
  /* Right after the introduction. */
  content = gtk_dialog_get_content_area (GTK_DIALOG (dialog));
  gtk_box_pack_start (GTK_BOX (content), box, FALSE, FALSE, 0);
  gtk_container_child_get (GTK_CONTAINER (content), text, "position", &position, NULL);
  gtk_box_reorder_child (GTK_BOX (content), box, position + 1);

  /* Only what the chosen output uses is sensitive. */
  g_value_init (&v, G_TYPE_STRING);
  values = gimp_value_array_new (1);
  g_value_set_static_string (&v, compare_output_nicks[COMPARE_HEATMAP]);
  gimp_value_array_append (values, &v);
  gimp_procedure_dialog_set_sensitive_if_in (GIMP_PROCEDURE_DIALOG (dialog), "colormap",
                                             NULL, "output", values, TRUE);
  gimp_procedure_dialog_set_sensitive_if_in (GIMP_PROCEDURE_DIALOG (dialog), "opacity",
                                             NULL, "output", values, TRUE);
  gimp_value_array_unref (values);
  values = gimp_value_array_new (1);
  g_value_set_static_string (&v, compare_output_nicks[COMPARE_LAYER_DIFFERENCE]);
  gimp_value_array_append (values, &v);
  gimp_procedure_dialog_set_sensitive_if_in (GIMP_PROCEDURE_DIALOG (dialog), "layer",
                                             NULL, "output", values, TRUE);
  gimp_value_array_unref (values);
  g_value_unset (&v);

  g_signal_connect_swapped (config, "notify::calibration", G_CALLBACK (update_models), &d);
  update_models (&d);

  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));
  g_signal_handlers_disconnect_by_data (config, &d);
  gtk_widget_destroy (dialog);
  return ok;
}

/* Running. */

static void
progress (double   fraction,
          gpointer data G_GNUC_UNUSED)
{
  gimp_progress_update (fraction);
}

static GimpValueArray *
fail (GimpProcedure     *procedure,
      GimpPDBStatusType  status,
      GError            *error)
{
  return gimp_procedure_new_return_values (procedure, status, error);
}

static GimpValueArray *
run (GimpProcedure        *procedure,
     GimpRunMode           run_mode,
     GimpImage            *image,
     GimpDrawable        **drawables,
     GimpProcedureConfig  *config,
     gpointer              run_data G_GNUC_UNUSED)
{
  GimpLayer         *layer, *reference = NULL, *result;
  GimpPDBStatusType  status;
  GimpValueArray    *values;
  CompareSettings    s = { 0 };
  CompareJob        *job = NULL;
  GeglBuffer        *ref_buffer = NULL, *cmp_buffer = NULL, *target;
  GeglRectangle      area;
  GError            *error = NULL;
  char              *network = NULL, *calibration = NULL, *output = NULL;
  char              *colormap = NULL, *name, *layer_name = NULL, *reference_name = NULL;
  const GimpLayer   *selected[2] = { NULL, NULL };

  if (!drawables || !drawables[0] || drawables[1] || !GIMP_IS_LAYER (drawables[0]))
    {
      g_set_error (&error, GIMP_PLUG_IN_ERROR, 0,
                   _("Perceptual Distance compares one layer, the selected one, "
                     "with a reference: select exactly one layer"));
      return fail (procedure, GIMP_PDB_CALLING_ERROR, error);
    }
  layer = GIMP_LAYER (drawables[0]);

  gegl_init (NULL, NULL);    /* only now: it loads every GEGL module */
  if (!compare_ops_available (&error))
    return fail (procedure, GIMP_PDB_EXECUTION_ERROR, error);

  if (run_mode == GIMP_RUN_INTERACTIVE)
    {
      /* Never a stale layer, nor one of our results, as the default. */
      reference = default_reference (image, layer);
      if (!reference)
        {
          GimpLayer **layers = gimp_image_get_layers (image);

          for (int i = 0; layers[i] && !reference; i++)
            if (layers[i] != layer && !is_result (GIMP_ITEM (layers[i])))
              reference = layers[i];
          g_free (layers);
        }
      if (!reference)
        {
          g_set_error (&error, GIMP_PLUG_IN_ERROR, 0,
                       _("The image has only one layer: open the reference as a "
                         "second layer (File > Open as Layers...) and compare "
                         "again"));
          return fail (procedure, GIMP_PDB_EXECUTION_ERROR, error);
        }
      g_object_set (config, "reference", reference, NULL);
      if (!dialog_run (procedure, config, layer))
        return fail (procedure, GIMP_PDB_CANCEL, NULL);
    }

  g_object_get (config, "reference", &reference, "network", &network,
                "calibration", &calibration, "output", &output, "layer", &s.layer,
                "colormap", &colormap, "opacity", &s.opacity, NULL);
  if (!reference && (reference = default_reference (image, layer)))
    g_object_ref (reference);
  layer_name = gimp_item_get_name (GIMP_ITEM (layer));
  reference_name = reference ? gimp_item_get_name (GIMP_ITEM (reference)) : g_strdup ("");
  s.network = network;
  s.calibration = calibration;
  s.colormap = colormap;
  s.output = 0;
  while (s.output < G_N_ELEMENTS (compare_output_nicks) &&
         g_strcmp0 (output, compare_output_nicks[s.output]))
    s.output++;

  status = GIMP_PDB_CALLING_ERROR;
  if (compare_check_settings (&s, &error))
    status = check_layers (image, layer, layer_name, reference, reference_name, &error);
  if (status == GIMP_PDB_SUCCESS)
    {
      ref_buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (reference));
      cmp_buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
      if (!compare_check_padding (ref_buffer, reference_name, &error) ||
          !compare_check_padding (cmp_buffer, layer_name, &error))
        status = GIMP_PDB_EXECUTION_ERROR;
    }
  /* The network runs before anything changes in the image: a cancel
   * (which ends this process) leaves the image and its undo as they were.
   */
  if (status == GIMP_PDB_SUCCESS)
    {
      gimp_progress_init (_("Computing the perceptual distance"));
      job = compare_job_new (ref_buffer, cmp_buffer, &s);
      if (!compare_job_run (job, progress, NULL, &error))
        status = GIMP_PDB_EXECUTION_ERROR;
    }
  if (status != GIMP_PDB_SUCCESS)
    {
      values = fail (procedure, status, error);
      goto out;
    }

  area = area_of (GIMP_DRAWABLE (layer));
  name = compare_layer_name (&s, compare_job_distance (job), compare_job_term (job));
  gimp_image_undo_group_start (image);
  result = gimp_layer_new (image, name, area.width, area.height,
                           s.output == COMPARE_HEATMAP ? GIMP_RGBA_IMAGE : GIMP_RGB_IMAGE,
                           100.0, gimp_image_get_default_new_layer_mode (image));
  g_free (name);
  gimp_image_insert_layer (image, result,
                           GIMP_LAYER (gimp_item_get_parent (GIMP_ITEM (layer))),
                           gimp_image_get_item_position (image, GIMP_ITEM (layer)));
  gimp_layer_set_offsets (result, area.x, area.y);
  gimp_item_attach_parasite (GIMP_ITEM (result),
                             gimp_parasite_new (COMPARE_RESULT_PARASITE,
                                                GIMP_PARASITE_PERSISTENT, 0, NULL));
  target = gimp_drawable_get_buffer (GIMP_DRAWABLE (result));
  compare_job_write (job, target);
  g_object_unref (target);      /* flushes the tiles to GIMP */
  gimp_drawable_update (GIMP_DRAWABLE (result), 0, 0, area.width, area.height);
  /* The compared layer stays selected, so that Filters > Repeat compares
   * it again rather than the result.
   */
  selected[0] = layer;
  gimp_image_set_selected_layers (image, selected);
  gimp_image_undo_group_end (image);
  gimp_progress_end ();

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    {
      char *report = compare_report (&s, layer_name, reference_name,
                                     compare_job_distance (job));

      /* Several lines: GIMP shows them in a message box that stays, not
       * in the status bar.
       */
      gimp_displays_flush ();
      gimp_message (report);
      g_free (report);
    }

  values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_LAYER (values, 1, result);
  GIMP_VALUES_SET_DOUBLE (values, 2, compare_job_distance (job));

out:
  compare_job_free (job);
  g_clear_object (&ref_buffer);
  g_clear_object (&cmp_buffer);
  g_clear_object (&reference);
  g_free (network);
  g_free (calibration);
  g_free (output);
  g_free (colormap);
  g_free (layer_name);
  g_free (reference_name);
  return values;
}

GIMP_MAIN (perceptual_compare_get_type ())
