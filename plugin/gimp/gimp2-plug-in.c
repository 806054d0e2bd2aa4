/* perceptual-compare for GIMP 2.10: compares the active layer with a
 * reference layer through the perceptual ops and adds the result as a new
 * layer.  Colors > Info > Perceptual Distance..., and the PDB procedure
 * plug-in-perceptual-compare:
 *
 *   run-mode     INT32     interactive, non-interactive, last values
 *   image        IMAGE
 *   drawable     DRAWABLE  the compared layer (the retouch)
 *   other        DRAWABLE  the reference layer; -1: the layer below (layers
 *                          this plug-in made are passed over)
 *   network      INT32     the networks in the ops' order: 0 squeeze,
 *                          1 alex, 2 vgg, 3 resnet18, 4 resnet34, 5 resnet50
 *   calibration  INT32     0 lpips-v0.1, 1 lpips-v0.0, 2 unweighted,
 *                          3 the network's default
 *   output       INT32     0 heatmap, 1 distance map, 2 one layer's difference
 *   layer        INT32     the network layer for output 2, 1-based
 *   colormap     INT32     0 magma, 1 inferno, 2 viridis, 3 turbo, 4 gray
 *   opacity      FLOAT     the heatmap's opacity, 0..1
 *
 * returns the new layer (LAYER) and the distance (FLOAT); on failure
 * CALLING_ERROR or EXECUTION_ERROR with the reason as a STRING, which GIMP
 * shows and Script-Fu raises.
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

#define N_CALIBRATIONS 4
#define N_COLORMAPS    5

static const char *const calibration_nicks[N_CALIBRATIONS] =
  { "lpips-v0.1", "lpips-v0.0", "unweighted", "default" };
static const char *const colormap_nicks[N_COLORMAPS] =
  { "magma", "inferno", "viridis", "turbo", "gray" };

/* The settings remembered between runs (gimp_set_data); the layers are
 * not: they belong to one image.
 */
typedef struct
{
  gint32  network;
  gint32  calibration;
  gint32  output;
  gint32  layer;
  gint32  colormap;
  gdouble opacity;
} CompareVals;

static const CompareVals default_vals = { 0, 3, COMPARE_HEATMAP, 1, 0, 0.7 };

static void query (void);
static void run   (const gchar      *name,
                   gint              nparams,
                   const GimpParam  *param,
                   gint             *nreturn_vals,
                   GimpParam       **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN ()

static int
n_networks (void)
{
  int n = 0;

  while (perc_net_builtins ()[n].name)
    n++;
  return n;
}

/* "squeeze (0), alex (1), ..." */
static char *
network_list (void)
{
  GString *s = g_string_new (NULL);
  int      i = 0;

  for (const PercNetInfo *n = perc_net_builtins (); n->name; n++, i++)
    g_string_append_printf (s, "%s%s (%d)", i ? ", " : "", n->name, i);
  return g_string_free (s, FALSE);
}

static void
query (void)
{
  char *networks = network_list ();
  char *network_blurb = g_strdup_printf ("The network { %s }", networks);
  GimpParamDef args[] =
  {
    { GIMP_PDB_INT32,    "run-mode",    "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
    { GIMP_PDB_IMAGE,    "image",       "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable",    "The compared layer" },
    { GIMP_PDB_DRAWABLE, "other",       "The reference layer, of the same size and position; -1 for the layer below the compared one" },
    { GIMP_PDB_INT32,    "network",     network_blurb },
    { GIMP_PDB_INT32,    "calibration", "The calibration { lpips-v0.1 (0), lpips-v0.0 (1), unweighted (2), the network's default (3) }" },
    { GIMP_PDB_INT32,    "output",      "The new layer { heatmap (0), grayscale distance map (1), one network layer's difference image (2) }" },
    { GIMP_PDB_INT32,    "layer",       "The network layer for output 2, 1-based (1..7 for SqueezeNet, 1..5 for the others)" },
    { GIMP_PDB_INT32,    "colormap",    "The heatmap's colour map { magma (0), inferno (1), viridis (2), turbo (3), gray (4) }" },
    { GIMP_PDB_FLOAT,    "opacity",     "The heatmap's opacity over the reference (0 <= opacity <= 1)" }
  };
  static const GimpParamDef return_vals[] =
  {
    { GIMP_PDB_LAYER,    "new-layer",   "The new layer, above the compared one" },
    { GIMP_PDB_FLOAT,    "distance",    "The perceptual distance (LPIPS) of the two layers" }
  };
  char *help_dir = g_build_filename (PERCEPTUAL_HELP_DIR, NULL);
  char *help_uri = g_filename_to_uri (help_dir, NULL, NULL);

  compare_bind_domain ();
  gimp_install_procedure (COMPARE_PROC,
                          N_("Compare two layers with a learned perceptual distance (LPIPS)"),
                          _("Computes how different the compared layer (the "
                            "drawable) looks from the reference layer (\"other\", "
                            "by default the layer below) with the LPIPS distance "
                            "of a network's features, and adds a new layer above "
                            "the compared one: a heatmap of where they differ "
                            "over the reference, the distance map in gray, or "
                            "one network layer's difference image in gray "
                            "(values above 1 are white). It returns the new "
                            "layer and the distance. Both layers must have the "
                            "same size and position, in an RGB image. Alpha is "
                            "ignored: the colour channels are compared as "
                            "stored. The models are installed with "
                            "gegl-perceptual fetch."),
                          "gegl-perceptual", "gegl-perceptual", "2026",
                          N_("Perceptual _Distance..."),
                          "*", GIMP_PLUGIN,
                          G_N_ELEMENTS (args), G_N_ELEMENTS (return_vals),
                          args, return_vals);
  gimp_plugin_menu_register (COMPARE_PROC, "<Image>/Colors/Info");
  {
    const char *localedir = g_getenv ("GEGL_PERCEPTUAL_LOCALEDIR");

    gimp_plugin_domain_register (GETTEXT_PACKAGE,
                                 localedir && *localedir ? localedir : LOCALEDIR);
  }
  if (help_uri)
    gimp_plugin_help_register (PERCEPTUAL_HELP_DOMAIN, help_uri);
  g_free (help_uri);
  g_free (help_dir);
  g_free (network_blurb);
  g_free (networks);
}


/* Layers. */

static gboolean
is_result (gint32 item)
{
  GimpParasite *p = gimp_item_get_parasite (item, COMPARE_RESULT_PARASITE);

  gimp_parasite_free (p);
  return p != NULL;
}

/* The nearest layer below `layer` in its group that this plug-in did not
 * make, or -1.
 */
static gint32
default_reference (gint32 image,
                   gint32 layer)
{
  gint32   parent = gimp_item_get_parent (layer);
  gint     n = 0;
  gint32  *items = parent > 0 ? gimp_item_get_children (parent, &n)
                              : gimp_image_get_layers (image, &n);
  gint32   below = -1;
  gboolean past = FALSE;

  for (int i = 0; i < n && below == -1; i++)
    if (items[i] == layer)
      past = TRUE;
    else if (past && gimp_item_is_layer (items[i]) && !is_result (items[i]))
      below = items[i];
  g_free (items);
  return below;
}

static GeglRectangle
area_of (gint32 drawable)
{
  GeglRectangle r = { 0, 0, gimp_drawable_width (drawable), gimp_drawable_height (drawable) };

  gimp_drawable_offsets (drawable, &r.x, &r.y);
  return r;
}

static GimpPDBStatusType
check_layers (gint32   image,
              gint32   drawable,
              gint32  *other,
              gchar  **error)
{
  GeglRectangle a, b;
  gchar        *name, *other_name;

  switch (gimp_image_base_type (image))
    {
    case GIMP_RGB:
      break;
    case GIMP_GRAY:
      *error = g_strdup (_("Perceptual distances need an RGB image and this "
                           "one is grayscale: convert it with Image > Mode > RGB"));
      return GIMP_PDB_EXECUTION_ERROR;
    default:
      *error = g_strdup (_("Perceptual distances need an RGB image and this "
                           "one is indexed: convert it with Image > Mode > RGB"));
      return GIMP_PDB_EXECUTION_ERROR;
    }
  if (!gimp_item_is_valid (drawable) || !gimp_item_is_layer (drawable) ||
      gimp_item_get_image (drawable) != image)
    {
      *error = g_strdup (_("The compared drawable must be a layer of the image"));
      return GIMP_PDB_CALLING_ERROR;
    }
  name = gimp_item_get_name (drawable);
  if (*other == -1 && (*other = default_reference (image, drawable)) == -1)
    {
      *error = g_strdup_printf (_("There is no layer below “%s” to compare it with: "
                                  "open the reference as a layer below it (File > "
                                  "Open as Layers...), or choose the reference"),
                                name);
      g_free (name);
      return GIMP_PDB_EXECUTION_ERROR;
    }
  if (*other == drawable)
    {
      *error = g_strdup_printf (_("“%s” cannot be compared with itself: choose "
                                  "another layer as the reference"), name);
      g_free (name);
      return GIMP_PDB_CALLING_ERROR;
    }
  if (!gimp_item_is_valid (*other) || !gimp_item_is_layer (*other) ||
      gimp_item_get_image (*other) != image)
    {
      *error = g_strdup (_("The reference must be another layer of the same image"));
      g_free (name);
      return GIMP_PDB_CALLING_ERROR;
    }
  a = area_of (*other);
  b = area_of (drawable);
  if (!gegl_rectangle_equal (&a, &b))
    {
      other_name = gimp_item_get_name (*other);
      *error = compare_size_mismatch (other_name, &a, name, &b);
      g_free (other_name);
      g_free (name);
      return GIMP_PDB_EXECUTION_ERROR;
    }
  g_free (name);
  return GIMP_PDB_SUCCESS;
}

/* The settings as the shared code takes them; FALSE when an integer is
 * out of range.
 */
static gboolean
settings_of (const CompareVals *v,
             CompareSettings   *s,
             gchar            **error)
{
  if (v->network < 0 || v->network >= n_networks ())
    {
      char *networks = network_list ();

      *error = g_strdup_printf (_("“network” must be one of %s, not %d"), networks,
                                v->network);
      g_free (networks);
      return FALSE;
    }
  if (v->calibration < 0 || v->calibration >= N_CALIBRATIONS)
    {
      *error = g_strdup_printf (_("“calibration” must be 0 (LPIPS v0.1), 1 (LPIPS "
                                  "v0.0), 2 (unweighted) or 3 (the network's "
                                  "default), not %d"), v->calibration);
      return FALSE;
    }
  if (v->colormap < 0 || v->colormap >= N_COLORMAPS)
    {
      *error = g_strdup_printf (_("“colormap” must be 0 (magma), 1 (inferno), 2 "
                                  "(viridis), 3 (turbo) or 4 (gray), not %d"),
                                v->colormap);
      return FALSE;
    }
  if (v->output < 0 || v->output > COMPARE_LAYER_DIFFERENCE)
    {
      *error = g_strdup_printf (_("“output” must be 0 (heatmap), 1 (distance map) "
                                  "or 2 (one layer's difference), not %d"), v->output);
      return FALSE;
    }
  *s = (CompareSettings) { perc_net_builtins ()[v->network].name,
                           calibration_nicks[v->calibration], v->output, v->layer,
                           colormap_nicks[v->colormap], v->opacity };
  return TRUE;
}


/* The dialog. */

typedef struct
{
  CompareVals   *vals;
  GtkAdjustment *layer_adj;
  GtkWidget     *layer_spin, *layer_label;
  GtkWidget     *network_combo;
  GtkWidget     *colormap_combo, *colormap_label;
  GtkObject     *opacity_adj;
  GtkWidget     *missing;
  gint32         drawable;
} DialogWidgets;

static gboolean
network_installed (gint     value,
                   gpointer data)
{
  DialogWidgets *w = data;

  return value >= 0 && value < n_networks () &&
         compare_model_installed (perc_net_builtins ()[value].name,
                                  calibration_nicks[w->vals->calibration]);
}

static void
dialog_update (DialogWidgets *w)
{
  gboolean heatmap = w->vals->output == COMPARE_HEATMAP;
  gboolean layer = w->vals->output == COMPARE_LAYER_DIFFERENCE;
  int      n_layers = perc_net_builtins ()[CLAMP (w->vals->network, 0,
                                                      n_networks () - 1)].n_taps;
  char    *missing = compare_missing_models (calibration_nicks[w->vals->calibration]);

  gtk_adjustment_set_upper (w->layer_adj, n_layers);
  if (gtk_adjustment_get_value (w->layer_adj) > n_layers)
    gtk_adjustment_set_value (w->layer_adj, n_layers);
  gtk_widget_set_sensitive (w->layer_spin, layer);
  gtk_widget_set_sensitive (w->layer_label, layer);
  gtk_widget_set_sensitive (w->colormap_combo, heatmap);
  gtk_widget_set_sensitive (w->colormap_label, heatmap);
  gimp_scale_entry_set_sensitive (w->opacity_adj, heatmap);

  /* Networks without a model for this calibration are greyed out. */
  gtk_widget_queue_draw (w->network_combo);
  gtk_label_set_text (GTK_LABEL (w->missing), missing ? missing : "");
  gtk_widget_set_visible (w->missing, missing != NULL);
  g_free (missing);
}

static void
combo_changed (GtkWidget     *combo,
               DialogWidgets *w)
{
  gint *target = g_object_get_data (G_OBJECT (combo), "target");

  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), target);
  dialog_update (w);
}

static GtkWidget *
attach_combo (GtkTable      *table,
              gint           row,
              const gchar   *label,
              const gchar   *tooltip,
              GtkWidget     *combo,
              gint          *target,
              DialogWidgets *w)
{
  g_object_set_data (G_OBJECT (combo), "target", target);
  gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), *target);
  g_signal_connect (combo, "changed", G_CALLBACK (combo_changed), w);
  gimp_help_set_help_data (combo, tooltip, NULL);
  return gimp_table_attach_aligned (table, 0, row, label, 0.0, 0.5, combo, 2, FALSE);
}

static gboolean
reference_acceptable (gint32   image,
                      gint32   item,
                      gpointer data)
{
  const DialogWidgets *w = data;

  return image == gimp_item_get_image (w->drawable) && item != w->drawable &&
         !is_result (item);
}

static gboolean
compare_dialog (gint32       drawable,
                gint32      *other,
                CompareVals *vals)
{
  GtkWidget     *dialog, *vbox, *table, *combo, *label;
  DialogWidgets  w = { 0, };
  gchar         *name, *text;
  gboolean       ok;

  w.vals = vals;
  w.drawable = drawable;
  gimp_ui_init (PLUG_IN_BINARY, FALSE);
  dialog = gimp_dialog_new (_("Perceptual Distance"), PLUG_IN_ROLE, NULL, 0,
                            gimp_standard_help_func, COMPARE_PROC,
                            _("_Cancel"), GTK_RESPONSE_CANCEL,
                            _("_OK"),     GTK_RESPONSE_OK,
                            NULL);
  gtk_dialog_set_alternative_button_order (GTK_DIALOG (dialog), GTK_RESPONSE_OK,
                                           GTK_RESPONSE_CANCEL, -1);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  vbox = gtk_vbox_new (FALSE, 12);
  gtk_container_set_border_width (GTK_CONTAINER (vbox), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))),
                      vbox, TRUE, TRUE, 0);

  name = gimp_item_get_name (drawable);
  text = g_strdup_printf (_("Compares “%s” with the reference layer and adds "
                            "the result as a new layer above it. Alpha is "
                            "ignored."), name);
  label = gtk_label_new (text);
  g_free (text);
  g_free (name);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_misc_set_alignment (GTK_MISC (label), 0.0, 0.5);
  gtk_box_pack_start (GTK_BOX (vbox), label, FALSE, FALSE, 0);

  table = gtk_table_new (8, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_box_pack_start (GTK_BOX (vbox), table, FALSE, FALSE, 0);

  /* The reference: another layer of this image, not one of our results. */
  combo = gimp_layer_combo_box_new (reference_acceptable, &w);
  gimp_int_combo_box_connect (GIMP_INT_COMBO_BOX (combo), *other,
                              G_CALLBACK (gimp_int_combo_box_get_active), other);
  gimp_help_set_help_data (combo, _("The layer the compared one is compared with, "
                                    "of the same size and position"), NULL);
  gimp_table_attach_aligned (GTK_TABLE (table), 0, 0, _("_Reference layer:"),
                             0.0, 0.5, combo, 2, FALSE);

  w.network_combo = g_object_new (GIMP_TYPE_INT_COMBO_BOX, NULL);
  for (int i = 0; i < n_networks (); i++)
    gimp_int_combo_box_append (GIMP_INT_COMBO_BOX (w.network_combo),
                               GIMP_INT_STORE_VALUE, i,
                               GIMP_INT_STORE_LABEL,
                               compare_network_label (perc_net_builtins ()[i].name),
                               -1);
  gimp_int_combo_box_set_sensitivity (GIMP_INT_COMBO_BOX (w.network_combo),
                                      network_installed, &w, NULL);
  attach_combo (GTK_TABLE (table), 1, _("_Network:"),
                _("The ImageNet network whose features are compared; greyed out: "
                  "no model installed"),
                w.network_combo, &vals->network, &w);

  w.missing = gtk_label_new (NULL);
  gtk_label_set_line_wrap (GTK_LABEL (w.missing), TRUE);
  gtk_label_set_selectable (GTK_LABEL (w.missing), TRUE);
  gtk_misc_set_alignment (GTK_MISC (w.missing), 0.0, 0.5);
  gtk_table_attach (GTK_TABLE (table), w.missing, 1, 3, 2, 3, GTK_FILL, GTK_FILL, 0, 0);

  combo = gimp_int_combo_box_new (_("LPIPS v0.1"), 0, _("LPIPS v0.0"), 1,
                                  _("Unweighted"), 2, _("Network's default"), 3, NULL);
  attach_combo (GTK_TABLE (table), 3, _("_Calibration:"),
                _("LPIPS's learned weights per feature channel, or the same "
                  "weight for every channel; the network's default is LPIPS "
                  "v0.1 where LPIPS calibrated the network, unweighted otherwise"),
                combo, &vals->calibration, &w);

  combo = gimp_int_combo_box_new (_("Heatmap"), COMPARE_HEATMAP,
                                  _("Distance map (gray)"), COMPARE_DISTANCE_MAP,
                                  _("One layer's difference (gray)"), COMPARE_LAYER_DIFFERENCE,
                                  NULL);
  attach_combo (GTK_TABLE (table), 4, _("_Output:"), _("What the new layer shows"),
                combo, &vals->output, &w);

  w.layer_adj = GTK_ADJUSTMENT (gtk_adjustment_new (vals->layer, 1, 7, 1, 1, 0));
  w.layer_spin = gimp_spin_button_new (w.layer_adj, 1.0, 0);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (w.layer_spin), TRUE);
  g_signal_connect (w.layer_adj, "value-changed",
                    G_CALLBACK (gimp_int_adjustment_update), &vals->layer);
  gimp_help_set_help_data (w.layer_spin, _("The network layer whose difference the "
                                           "new layer shows, from 1 (the finest) "
                                           "to the network's last"), NULL);
  w.layer_label = gimp_table_attach_aligned (GTK_TABLE (table), 0, 5,
                                             _("Network _layer:"), 0.0, 0.5,
                                             w.layer_spin, 1, TRUE);

  w.colormap_combo = gimp_int_combo_box_new (_("Magma"), 0, _("Inferno"), 1,
                                             _("Viridis"), 2, _("Turbo"), 3,
                                             _("Gray"), 4, NULL);
  w.colormap_label = attach_combo (GTK_TABLE (table), 6, _("Colour _map:"),
                                   _("How distances become colours in the heatmap, "
                                     "from small to large"),
                                   w.colormap_combo, &vals->colormap, &w);

  w.opacity_adj = gimp_scale_entry_new (GTK_TABLE (table), 0, 7, _("O_pacity:"), 150, 6,
                                        vals->opacity, 0.0, 1.0, 0.01, 0.1, 2, TRUE, 0, 0,
                                        _("How much the heatmap's colours cover the "
                                          "reference"), NULL);
  g_signal_connect (w.opacity_adj, "value-changed",
                    G_CALLBACK (gimp_double_adjustment_update), &vals->opacity);

  gtk_widget_show_all (dialog);
  dialog_update (&w);
  ok = gimp_dialog_run (GIMP_DIALOG (dialog)) == GTK_RESPONSE_OK;
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

/* Compares `other` with `drawable`; adds the new layer above `drawable`
 * and returns it, or -1 with *error set.  The network runs before the
 * image changes: a cancel, which ends this process, leaves the image and
 * its undo as they were.
 */
static gint32
compare_layers (gint32                 image,
                gint32                 drawable,
                gint32                 other,
                const CompareSettings *s,
                gdouble               *distance,
                gchar                **error)
{
  GeglBuffer   *ref = gimp_drawable_get_buffer (other);
  GeglBuffer   *cmp = gimp_drawable_get_buffer (drawable);
  GeglRectangle area = area_of (drawable);
  CompareJob   *job = NULL;
  GError       *gerror = NULL;
  gint32        layer = -1, parent;
  GeglBuffer   *target;
  gchar        *name;

  name = gimp_item_get_name (other);
  if (!compare_check_padding (ref, name, &gerror))
    goto out;
  g_free (name);
  name = gimp_item_get_name (drawable);
  if (!compare_check_padding (cmp, name, &gerror))
    goto out;

  gimp_progress_init (_("Computing the perceptual distance"));
  job = compare_job_new (ref, cmp, s);
  if (!compare_job_run (job, progress, NULL, &gerror))
    goto out;
  *distance = compare_job_distance (job);

  g_free (name);
  name = compare_layer_name (s, *distance, compare_job_term (job));
  gimp_image_undo_group_start (image);
  layer = gimp_layer_new (image, name, area.width, area.height,
                          s->output == COMPARE_HEATMAP ? GIMP_RGBA_IMAGE : GIMP_RGB_IMAGE,
                          100.0, gimp_image_get_default_new_layer_mode (image));
  parent = gimp_item_get_parent (drawable);
  gimp_image_insert_layer (image, layer, parent > 0 ? parent : -1,
                           gimp_image_get_item_position (image, drawable));
  gimp_layer_set_offsets (layer, area.x, area.y);
  {
    GimpParasite *p = gimp_parasite_new (COMPARE_RESULT_PARASITE,
                                         GIMP_PARASITE_PERSISTENT, 0, NULL);

    gimp_item_attach_parasite (layer, p);
    gimp_parasite_free (p);
  }
  target = gimp_drawable_get_buffer (layer);
  compare_job_write (job, target);
  g_object_unref (target);   /* flushes the tiles to GIMP */
  gimp_drawable_update (layer, 0, 0, area.width, area.height);
  /* The compared layer stays active, so that Filters > Repeat compares it
   * again rather than the result.
   */
  gimp_image_set_active_layer (image, drawable);
  gimp_image_undo_group_end (image);
  gimp_progress_update (1.0);

out:
  if (gerror)
    *error = g_strdup (gerror->message);
  g_clear_error (&gerror);
  g_free (name);
  compare_job_free (job);
  g_object_unref (ref);
  g_object_unref (cmp);
  return layer;
}

static void
run (const gchar      *name G_GNUC_UNUSED,
     gint              nparams,
     const GimpParam  *param,
     gint             *nreturn_vals,
     GimpParam       **return_vals)
{
  static GimpParam   values[3];
  static gchar      *error = NULL;
  GimpRunMode        run_mode = param[0].data.d_int32;
  GimpPDBStatusType  status = GIMP_PDB_SUCCESS;
  CompareVals        vals = default_vals;
  CompareSettings    settings;
  gint32             image = param[1].data.d_image;
  gint32             drawable = param[2].data.d_drawable;
  gint32             other = -1;
  gint32             layer = -1;
  gdouble            distance = NAN;
  GError            *gerror = NULL;

  compare_bind_domain ();
  g_clear_pointer (&error, g_free);
  *nreturn_vals = 1;
  *return_vals = values;
  values[0].type = GIMP_PDB_STATUS;

  switch (run_mode)
    {
    case GIMP_RUN_INTERACTIVE:
      gimp_get_data (COMPARE_PROC, &vals);
      if (vals.network < 0 || vals.network >= n_networks ())
        vals = default_vals;
      if (gimp_image_base_type (image) == GIMP_RGB &&
          gimp_item_is_valid (drawable) && gimp_item_is_layer (drawable))
        {
          other = default_reference (image, drawable);
          if (other == -1)
            {
              gint    n = 0;
              gint32 *layers = gimp_image_get_layers (image, &n);

              for (int i = 0; i < n && other == -1; i++)
                if (layers[i] != drawable && !is_result (layers[i]))
                  other = layers[i];
              g_free (layers);
            }
          if (other == -1)
            {
              error = g_strdup (_("The image has only one layer: open the "
                                  "reference as a second layer (File > Open "
                                  "as Layers...) and compare again"));
              status = GIMP_PDB_EXECUTION_ERROR;
            }
          else if (!compare_dialog (drawable, &other, &vals))
            status = GIMP_PDB_CANCEL;
          else
            /* Remembered even when the comparison fails. */
            gimp_set_data (COMPARE_PROC, &vals, sizeof vals);
        }
      break;

    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != 10)
        {
          error = g_strdup_printf (_("%s takes 10 arguments, not %d"), COMPARE_PROC,
                                   nparams);
          status = GIMP_PDB_CALLING_ERROR;
          break;
        }
      other = param[3].data.d_drawable;
      vals.network = param[4].data.d_int32;
      vals.calibration = param[5].data.d_int32;
      vals.output = param[6].data.d_int32;
      vals.layer = param[7].data.d_int32;
      vals.colormap = param[8].data.d_int32;
      vals.opacity = param[9].data.d_float;
      break;

    case GIMP_RUN_WITH_LAST_VALS:
      gimp_get_data (COMPARE_PROC, &vals);
      break;

    default:
      status = GIMP_PDB_CALLING_ERROR;
      break;
    }

  if (status == GIMP_PDB_SUCCESS && !settings_of (&vals, &settings, &error))
    status = GIMP_PDB_CALLING_ERROR;
  if (status == GIMP_PDB_SUCCESS)
    status = check_layers (image, drawable, &other, &error);
  if (status == GIMP_PDB_SUCCESS)
    {
      gegl_init (NULL, NULL);   /* only now: it loads every GEGL module */
      if (!compare_ops_available (&gerror))
        status = GIMP_PDB_EXECUTION_ERROR;
      else if (!compare_check_settings (&settings, &gerror))
        status = GIMP_PDB_CALLING_ERROR;
      if (gerror)
        error = g_strdup (gerror->message);
      g_clear_error (&gerror);
    }
  if (status == GIMP_PDB_SUCCESS)
    {
      layer = compare_layers (image, drawable, other, &settings, &distance, &error);
      if (layer == -1)
        status = GIMP_PDB_EXECUTION_ERROR;
    }

  if (status == GIMP_PDB_SUCCESS)
    {
      if (run_mode != GIMP_RUN_NONINTERACTIVE)
        {
          gchar *compared = gimp_item_get_name (drawable);
          gchar *reference = gimp_item_get_name (other);
          char  *report = compare_report (&settings, compared, reference, distance);

          /* Several lines: GIMP shows them in a message box that stays,
           * not in the status bar.
           */
          gimp_progress_end ();
          gimp_displays_flush ();
          gimp_message (report);
          g_free (report);
          g_free (compared);
          g_free (reference);
        }
      *nreturn_vals = 3;
      values[1].type = GIMP_PDB_LAYER;
      values[1].data.d_layer = layer;
      values[2].type = GIMP_PDB_FLOAT;
      values[2].data.d_float = distance;
    }
  else if (error)
    {
      *nreturn_vals = 2;
      values[1].type = GIMP_PDB_STRING;
      values[1].data.d_string = error;
    }
  values[0].data.d_status = status;
}
