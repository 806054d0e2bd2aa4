/* perceptual-compare: a GIMP 2.10 plug-in that compares two layers with
 * the perceptual ops (LPIPS) and adds the result as a new layer.
 *
 * PDB procedure "plug-in-perceptual-compare", in the menu
 * <Image>/Colors/Info/Perceptual _Distance...
 *
 *   run-mode     GIMP_PDB_INT32     interactive, non-interactive, last values
 *   image        GIMP_PDB_IMAGE     the image
 *   drawable     GIMP_PDB_DRAWABLE  the compared layer (the retouch)
 *   other        GIMP_PDB_DRAWABLE  the reference layer; -1: the layer below
 *   network      GIMP_PDB_INT32     0 SqueezeNet 1.1, 1 AlexNet, 2 VGG-16
 *   calibration  GIMP_PDB_INT32     0 LPIPS v0.1, 1 LPIPS v0.0, 2 unweighted
 *   output       GIMP_PDB_INT32     0 heatmap, 1 distance map, 2 one
 *                                   layer's difference image
 *   layer        GIMP_PDB_INT32     the network layer for output 2 (1-based)
 *   colormap     GIMP_PDB_INT32     0 magma, 1 inferno, 2 viridis, 3 turbo,
 *                                   4 gray (heatmap only)
 *   opacity      GIMP_PDB_FLOAT     the heatmap's opacity, 0..1
 *
 * Returns the new layer (GIMP_PDB_LAYER) and the distance (GIMP_PDB_FLOAT).
 * On failure it returns GIMP_PDB_CALLING_ERROR or GIMP_PDB_EXECUTION_ERROR
 * with the reason as a GIMP_PDB_STRING, which GIMP shows to the user and
 * Script-Fu raises as an error.
 *
 * The graph: gegl:buffer-source (other) -> input, gegl:buffer-source
 * (drawable) -> aux of perceptual:heatmap, :distance or :layer-difference,
 * then gegl:write-buffer into the new layer's buffer.  The distance maps
 * are written as gray values (the value is the encoded gray level: 1 is
 * white, larger values are clipped).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#define PLUG_IN_PROC   "plug-in-perceptual-compare"
#define PLUG_IN_BINARY "perceptual-compare"
#define PLUG_IN_ROLE   "gegl-perceptual-compare"

enum
{
  OUTPUT_HEATMAP,
  OUTPUT_DISTANCE_MAP,
  OUTPUT_LAYER_DIFFERENCE
};

#define N_NETWORKS     3
#define N_CALIBRATIONS 3
#define N_OUTPUTS      3
#define N_COLORMAPS    5

/* The settings remembered between runs (gimp_set_data).  The layers are
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

/* The ops' enum nicks, in the order of the PDB's integers (the colour
 * maps: magma, inferno, viridis, turbo, gray).
 */
static const gchar *network_nicks[N_NETWORKS] = { "squeeze", "alex", "vgg" };
static const gchar *calibration_nicks[N_CALIBRATIONS] =
  { "lpips-v0.1", "lpips-v0.0", "unweighted" };
/* How many layers (taps) each network has. */
static const gint network_layers[N_NETWORKS] = { 7, 5, 5 };

static const CompareVals default_vals =
{
  0,                 /* squeeze */
  0,                 /* lpips-v0.1 */
  OUTPUT_HEATMAP,
  1,
  0,                 /* magma */
  0.7
};


static void     query        (void);
static void     run          (const gchar      *name,
                              gint              nparams,
                              const GimpParam  *param,
                              gint             *nreturn_vals,
                              GimpParam       **return_vals);

const GimpPlugInInfo PLUG_IN_INFO =
{
  NULL,  /* init  */
  NULL,  /* quit  */
  query,
  run
};

MAIN ()


static void
bind_domain (void)
{
  const gchar *localedir = g_getenv ("GEGL_PERCEPTUAL_LOCALEDIR");

  if (! localedir || ! *localedir)
    localedir = LOCALEDIR;
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static const gchar *
network_label (gint network)
{
  switch (network)
    {
    case 1:  return _("AlexNet");
    case 2:  return _("VGG-16");
    default: return _("SqueezeNet 1.1");
    }
}

static void
query (void)
{
  static const GimpParamDef args[] =
  {
    { GIMP_PDB_INT32,    "run-mode",    "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
    { GIMP_PDB_IMAGE,    "image",       "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable",    "The compared layer" },
    { GIMP_PDB_DRAWABLE, "other",       "The reference layer, of the same size and position; -1 for the layer below the compared one" },
    { GIMP_PDB_INT32,    "network",     "The network { SqueezeNet 1.1 (0), AlexNet (1), VGG-16 (2) }" },
    { GIMP_PDB_INT32,    "calibration", "The calibration { LPIPS v0.1 (0), LPIPS v0.0 (1), unweighted (2) }" },
    { GIMP_PDB_INT32,    "output",      "The new layer { heatmap (0), grayscale distance map (1), one network layer's difference image (2) }" },
    { GIMP_PDB_INT32,    "layer",       "The network layer for output 2, 1-based (1..7 for SqueezeNet, 1..5 for AlexNet and VGG-16)" },
    { GIMP_PDB_INT32,    "colormap",    "The heatmap's colour map { magma (0), inferno (1), viridis (2), turbo (3), gray (4) }" },
    { GIMP_PDB_FLOAT,    "opacity",     "The heatmap's opacity over the reference (0 <= opacity <= 1)" }
  };
  static const GimpParamDef return_vals[] =
  {
    { GIMP_PDB_LAYER,    "new-layer",   "The new layer, above the compared one" },
    { GIMP_PDB_FLOAT,    "distance",    "The perceptual distance (LPIPS) of the two layers" }
  };

  bind_domain ();

  gimp_install_procedure (PLUG_IN_PROC,
                          N_("Compare two layers with a learned perceptual distance (LPIPS)"),
                          _("Computes the LPIPS perceptual distance of the "
                            "compared layer (the drawable) from the reference "
                            "layer (\"other\", by default the layer below), "
                            "with SqueezeNet 1.1, AlexNet or VGG-16 features, "
                            "and adds a new layer above the compared one: a "
                            "heatmap of the distance over the reference, the "
                            "distance map in gray, or one network layer's "
                            "difference image in gray (values above 1 are "
                            "white).  It returns the new layer and the "
                            "distance.  Both layers must have the same size "
                            "and position, in an RGB image.  Alpha is "
                            "ignored: the colour channels are compared as "
                            "stored.  Run with the last values (Filters > "
                            "Repeat), the reference is the layer below.  The "
                            "models are installed with gegl-perceptual-fetch."),
                          "gegl-perceptual",
                          "gegl-perceptual",
                          "2026",
                          N_("Perceptual _Distance..."),
                          "*",
                          GIMP_PLUGIN,
                          G_N_ELEMENTS (args),
                          G_N_ELEMENTS (return_vals),
                          args, return_vals);

  /* <Image>/Colors/Info/Perceptual _Distance... */
  gimp_plugin_menu_register (PLUG_IN_PROC, "<Image>/Colors/Info");

  {
    const gchar *localedir = g_getenv ("GEGL_PERCEPTUAL_LOCALEDIR");

    gimp_plugin_domain_register (GETTEXT_PACKAGE,
                                 localedir && *localedir ? localedir : LOCALEDIR);
  }
}


/* Finding the layers. */

/* The layer directly below `layer` in its group (or the image), or -1. */
static gint32
layer_below (gint32 image,
             gint32 layer)
{
  gint32  parent = gimp_item_get_parent (layer);
  gint32 *items;
  gint32  below = -1;
  gint    n = 0;
  gint    i;

  if (parent > 0)
    items = gimp_item_get_children (parent, &n);
  else
    items = gimp_image_get_layers (image, &n);

  for (i = 0; i < n; i++)
    if (items[i] == layer)
      {
        if (i + 1 < n)
          below = items[i + 1];
        break;
      }
  g_free (items);
  return below;
}

typedef struct
{
  gint32 image;
  gint32 drawable;
} OtherConstraint;

static gboolean
other_is_acceptable (gint32   image,
                     gint32   item,
                     gpointer data)
{
  const OtherConstraint *c = data;

  return image == c->image && item != c->drawable;
}

/* The first layer of the image other than `drawable`, or -1. */
static gint32
any_other_layer (gint32 image,
                 gint32 drawable)
{
  gint32 *layers;
  gint32  found = -1;
  gint    n = 0;
  gint    i;

  layers = gimp_image_get_layers (image, &n);
  for (i = 0; i < n && found == -1; i++)
    if (layers[i] != drawable)
      found = layers[i];
  g_free (layers);
  return found;
}


/* The dialog. */

typedef struct
{
  CompareVals   *vals;
  GtkAdjustment *layer_adj;
  GtkWidget     *layer_spin;
  GtkWidget     *layer_label;
  GtkWidget     *colormap_combo;
  GtkWidget     *colormap_label;
  GtkObject     *opacity_adj;
} DialogWidgets;

static void
dialog_update_sensitivity (DialogWidgets *w)
{
  gboolean heatmap = w->vals->output == OUTPUT_HEATMAP;
  gboolean layer = w->vals->output == OUTPUT_LAYER_DIFFERENCE;
  gint     n_layers = network_layers[CLAMP (w->vals->network, 0, N_NETWORKS - 1)];

  gtk_adjustment_set_upper (w->layer_adj, n_layers);
  if (gtk_adjustment_get_value (w->layer_adj) > n_layers)
    gtk_adjustment_set_value (w->layer_adj, n_layers);

  gtk_widget_set_sensitive (w->layer_spin, layer);
  gtk_widget_set_sensitive (w->layer_label, layer);
  gtk_widget_set_sensitive (w->colormap_combo, heatmap);
  gtk_widget_set_sensitive (w->colormap_label, heatmap);
  gimp_scale_entry_set_sensitive (w->opacity_adj, heatmap);
}

static void
combo_changed (GtkWidget     *combo,
               DialogWidgets *w)
{
  gint *target = g_object_get_data (G_OBJECT (combo), "target");

  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), target);
  dialog_update_sensitivity (w);
}

static GtkWidget *
attach_combo (GtkTable      *table,
              gint           row,
              const gchar   *label,
              GtkWidget     *combo,
              gint          *target,
              DialogWidgets *w,
              GtkWidget    **label_widget)
{
  GtkWidget *l;

  g_object_set_data (G_OBJECT (combo), "target", target);
  gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), *target);
  g_signal_connect (combo, "changed", G_CALLBACK (combo_changed), w);
  l = gimp_table_attach_aligned (table, 0, row, label, 0.0, 0.5,
                                 combo, 2, FALSE);
  if (label_widget)
    *label_widget = l;
  return combo;
}

static gboolean
compare_dialog (gint32       image,
                gint32       drawable,
                gint32      *other,
                CompareVals *vals)
{
  GtkWidget       *dialog;
  GtkWidget       *vbox;
  GtkWidget       *table;
  GtkWidget       *combo;
  GtkWidget       *label;
  DialogWidgets    w = { 0, };
  OtherConstraint  constraint = { image, drawable };
  gchar           *text;
  gboolean         run;

  w.vals = vals;
  gimp_ui_init (PLUG_IN_BINARY, FALSE);

  dialog = gimp_dialog_new (_("Perceptual Distance"), PLUG_IN_ROLE,
                            NULL, 0,
                            gimp_standard_help_func, PLUG_IN_PROC,

                            _("_Cancel"), GTK_RESPONSE_CANCEL,
                            _("_OK"),     GTK_RESPONSE_OK,

                            NULL);

  gtk_dialog_set_alternative_button_order (GTK_DIALOG (dialog),
                                          GTK_RESPONSE_OK,
                                          GTK_RESPONSE_CANCEL,
                                          -1);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  vbox = gtk_vbox_new (FALSE, 12);
  gtk_container_set_border_width (GTK_CONTAINER (vbox), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))),
                      vbox, TRUE, TRUE, 0);

  text = g_strdup_printf (_("Compares “%s” with the reference layer and adds "
                            "the result as a new layer above it. Alpha is "
                            "ignored."),
                          gimp_item_get_name (drawable));
  label = gtk_label_new (text);
  g_free (text);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_misc_set_alignment (GTK_MISC (label), 0.0, 0.5);
  gtk_box_pack_start (GTK_BOX (vbox), label, FALSE, FALSE, 0);

  table = gtk_table_new (7, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_box_pack_start (GTK_BOX (vbox), table, FALSE, FALSE, 0);

  /* The reference: any other layer of this image. */
  combo = gimp_layer_combo_box_new (other_is_acceptable, &constraint);
  gimp_int_combo_box_connect (GIMP_INT_COMBO_BOX (combo), *other,
                              G_CALLBACK (gimp_int_combo_box_get_active),
                              other);
  gimp_table_attach_aligned (GTK_TABLE (table), 0, 0, _("_Reference layer:"),
                             0.0, 0.5, combo, 2, FALSE);

  combo = gimp_int_combo_box_new (_("SqueezeNet 1.1"), 0,
                                  _("AlexNet"),        1,
                                  _("VGG-16"),         2,
                                  NULL);
  attach_combo (GTK_TABLE (table), 1, _("_Network:"), combo,
                &vals->network, &w, NULL);

  combo = gimp_int_combo_box_new (_("LPIPS v0.1"), 0,
                                  _("LPIPS v0.0"), 1,
                                  _("Unweighted"), 2,
                                  NULL);
  attach_combo (GTK_TABLE (table), 2, _("_Calibration:"), combo,
                &vals->calibration, &w, NULL);

  combo = gimp_int_combo_box_new (_("Heatmap"),                        OUTPUT_HEATMAP,
                                  _("Distance map (gray)"),            OUTPUT_DISTANCE_MAP,
                                  _("One layer's difference (gray)"),  OUTPUT_LAYER_DIFFERENCE,
                                  NULL);
  attach_combo (GTK_TABLE (table), 3, _("_Output:"), combo,
                &vals->output, &w, NULL);

  w.layer_adj = GTK_ADJUSTMENT (gtk_adjustment_new (vals->layer, 1,
                                                    network_layers[vals->network],
                                                    1, 1, 0));
  w.layer_spin = gimp_spin_button_new (w.layer_adj, 1.0, 0);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (w.layer_spin), TRUE);
  g_signal_connect (w.layer_adj, "value-changed",
                    G_CALLBACK (gimp_int_adjustment_update), &vals->layer);
  w.layer_label = gimp_table_attach_aligned (GTK_TABLE (table), 0, 4,
                                             _("Network _layer:"), 0.0, 0.5,
                                             w.layer_spin, 1, TRUE);

  w.colormap_combo = gimp_int_combo_box_new (_("Magma"),   0,
                                             _("Inferno"), 1,
                                             _("Viridis"), 2,
                                             _("Turbo"),   3,
                                             _("Gray"),    4,
                                             NULL);
  attach_combo (GTK_TABLE (table), 5, _("Colour _map:"), w.colormap_combo,
                &vals->colormap, &w, &w.colormap_label);

  w.opacity_adj = gimp_scale_entry_new (GTK_TABLE (table), 0, 6,
                                        _("O_pacity:"), 150, 6,
                                        vals->opacity, 0.0, 1.0, 0.01, 0.1, 2,
                                        TRUE, 0, 0,
                                        _("The heatmap's opacity over the reference"),
                                        NULL);
  g_signal_connect (w.opacity_adj, "value-changed",
                    G_CALLBACK (gimp_double_adjustment_update), &vals->opacity);

  dialog_update_sensitivity (&w);

  gtk_widget_show_all (dialog);
  run = gimp_dialog_run (GIMP_DIALOG (dialog)) == GTK_RESPONSE_OK;
  gtk_widget_destroy (dialog);

  return run;
}


/* Computing. */

/* Reads a node's results after a tiny request, which makes the op compute
 * its whole output once (later requests are served from its cache).
 */
static void
compute_node (GeglNode *node)
{
  GeglRectangle pixel = { 0, 0, 1, 1 };
  gfloat        rgba[4];

  gegl_node_blit (node, 1.0, &pixel, babl_format ("R'G'B'A float"),
                  rgba, GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
}

static gchar *
layer_name (const CompareVals *vals,
            gdouble            distance,
            gdouble            term)
{
  const gchar *net = network_nicks[vals->network];
  const gchar *cal = calibration_nicks[vals->calibration];

  switch (vals->output)
    {
    case OUTPUT_DISTANCE_MAP:
      return g_strdup_printf (_("Perceptual distance map (%s, %s): %.4f"),
                              net, cal, distance);
    case OUTPUT_LAYER_DIFFERENCE:
      return g_strdup_printf (_("Layer %d difference (%s, %s): term %.4f"),
                              vals->layer, net, cal, term);
    default:
      return g_strdup_printf (_("Perceptual heatmap (%s, %s): %.4f"),
                              net, cal, distance);
    }
}

/* Compares `other` (the reference) with `drawable`, adds the new layer and
 * returns it, or -1 with *error set.
 */
static gint32
compare_layers (gint32              image,
                gint32              drawable,
                gint32              other,
                const CompareVals  *vals,
                gdouble            *distance,
                gchar             **error)
{
  GeglBuffer   *ref_buffer = gimp_drawable_get_buffer (other);
  GeglBuffer   *cmp_buffer = gimp_drawable_get_buffer (drawable);
  const Babl   *space = babl_format_get_space (gimp_drawable_get_format (drawable));
  GeglNode     *graph = gegl_node_new ();
  GeglNode     *ref, *cmp, *dist, *image_node, *sink, *last;
  gchar        *status = NULL;
  gchar        *name;
  gdouble       term = NAN;
  gint          width = gimp_drawable_width (drawable);
  gint          height = gimp_drawable_height (drawable);
  gint          offset_x, offset_y;
  gint32        layer = -1;
  gint32        parent;
  GeglBuffer   *target;

  *distance = NAN;
  gimp_drawable_offsets (drawable, &offset_x, &offset_y);

  ref = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                             "buffer", ref_buffer, NULL);
  cmp = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                             "buffer", cmp_buffer, NULL);

  dist = gegl_node_new_child (graph, "operation",
                              vals->output == OUTPUT_HEATMAP ?
                              "perceptual:heatmap" : "perceptual:distance",
                              "network", vals->network,
                              "calibration", vals->calibration,
                              NULL);
  if (vals->output == OUTPUT_HEATMAP)
    gegl_node_set (dist,
                   "colormap", vals->colormap,
                   "opacity", vals->opacity,
                   NULL);
  gegl_node_connect_to (ref, "output", dist, "input");
  gegl_node_connect_to (cmp, "output", dist, "aux");

  gimp_progress_init (_("Computing the perceptual distance"));

  compute_node (dist);
  gegl_node_get (dist, "distance", distance, "status", &status, NULL);
  if (isnan (*distance))
    {
      *error = (status && *status) ?
        g_strdup (status) :
        g_strdup (_("The perceptual distance could not be computed"));
      goto out;
    }

  image_node = dist;
  if (vals->output == OUTPUT_LAYER_DIFFERENCE)
    {
      image_node = gegl_node_new_child (graph,
                                        "operation", "perceptual:layer-difference",
                                        "network", vals->network,
                                        "calibration", vals->calibration,
                                        "layer", vals->layer,
                                        NULL);
      gegl_node_connect_to (ref, "output", image_node, "input");
      gegl_node_connect_to (cmp, "output", image_node, "aux");
      compute_node (image_node);
      g_free (status);
      status = NULL;
      gegl_node_get (image_node, "term", &term, "status", &status, NULL);
      if (isnan (term))
        {
          *error = (status && *status) ?
            g_strdup (status) :
            g_strdup (_("The layer's difference could not be computed"));
          goto out;
        }
    }
  gimp_progress_update (0.9);

  /* The gray maps: the value is the encoded gray level, clipped to 0..1. */
  last = image_node;
  if (vals->output != OUTPUT_HEATMAP)
    {
      GeglNode *clip = gegl_node_new_child (graph, "operation", "gegl:rgb-clip",
                                            NULL);
      GeglNode *cast = gegl_node_new_child (graph, "operation", "gegl:cast-format",
                                            "input-format", babl_format ("RGB float"),
                                            "output-format",
                                            babl_format_with_space ("R'G'B' float", space),
                                            NULL);

      gegl_node_link_many (image_node, clip, cast, NULL);
      last = cast;
    }

  name = layer_name (vals, *distance, term);
  layer = gimp_layer_new (image, name, width, height,
                          vals->output == OUTPUT_HEATMAP ?
                          GIMP_RGBA_IMAGE : GIMP_RGB_IMAGE,
                          100.0,
                          gimp_image_get_default_new_layer_mode (image));
  g_free (name);

  parent = gimp_item_get_parent (drawable);
  gimp_image_insert_layer (image, layer, parent > 0 ? parent : -1,
                           gimp_image_get_item_position (image, drawable));
  gimp_layer_set_offsets (layer, offset_x, offset_y);

  target = gimp_drawable_get_buffer (layer);
  sink = gegl_node_new_child (graph, "operation", "gegl:write-buffer",
                              "buffer", target, NULL);
  gegl_node_link (last, sink);
  gegl_node_process (sink);
  g_object_unref (target);   /* flushes the tiles to GIMP */

  gimp_drawable_update (layer, 0, 0, width, height);
  gimp_progress_update (1.0);

out:
  g_free (status);
  g_object_unref (graph);
  g_object_unref (ref_buffer);
  g_object_unref (cmp_buffer);
  return layer;
}


/* The PDB side. */

static GimpPDBStatusType
check_values (const CompareVals  *vals,
              gchar             **error)
{
  if (vals->network < 0 || vals->network >= N_NETWORKS)
    *error = g_strdup_printf (_("“network” must be 0 (SqueezeNet 1.1), 1 "
                                "(AlexNet) or 2 (VGG-16), not %d"),
                              vals->network);
  else if (vals->calibration < 0 || vals->calibration >= N_CALIBRATIONS)
    *error = g_strdup_printf (_("“calibration” must be 0 (LPIPS v0.1), 1 "
                                "(LPIPS v0.0) or 2 (unweighted), not %d"),
                              vals->calibration);
  else if (vals->output < 0 || vals->output >= N_OUTPUTS)
    *error = g_strdup_printf (_("“output” must be 0 (heatmap), 1 (distance "
                                "map) or 2 (one layer's difference), not %d"),
                              vals->output);
  else if (vals->colormap < 0 || vals->colormap >= N_COLORMAPS)
    *error = g_strdup_printf (_("“colormap” must be 0 (magma), 1 (inferno), "
                                "2 (viridis), 3 (turbo) or 4 (gray), not %d"),
                              vals->colormap);
  else if (! (vals->opacity >= 0.0 && vals->opacity <= 1.0))
    *error = g_strdup_printf (_("“opacity” must be between 0 and 1, not %g"),
                              vals->opacity);
  else if (vals->output == OUTPUT_LAYER_DIFFERENCE &&
           (vals->layer < 1 || vals->layer > network_layers[vals->network]))
    *error = g_strdup_printf (_("%s has layers 1 to %d: there is no layer %d"),
                              network_label (vals->network),
                              network_layers[vals->network], vals->layer);
  else
    return GIMP_PDB_SUCCESS;

  return GIMP_PDB_CALLING_ERROR;
}

/* Checks the image and the two layers; *other == -1 becomes the layer
 * below the drawable.
 */
static GimpPDBStatusType
check_layers (gint32   image,
              gint32   drawable,
              gint32  *other,
              gchar  **error)
{
  gint width, height, x, y;
  gint other_width, other_height, other_x, other_y;

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

  if (! gimp_item_is_valid (drawable) || ! gimp_item_is_layer (drawable) ||
      gimp_item_get_image (drawable) != image)
    {
      *error = g_strdup (_("The compared drawable must be a layer of the image"));
      return GIMP_PDB_CALLING_ERROR;
    }

  if (*other == -1)
    {
      *other = layer_below (image, drawable);
      if (*other == -1)
        {
          *error = g_strdup_printf (_("There is no layer below “%s” to compare "
                                      "it with: put the reference layer below "
                                      "it, or choose the reference"),
                                    gimp_item_get_name (drawable));
          return GIMP_PDB_EXECUTION_ERROR;
        }
    }
  else if (*other == drawable)
    {
      *error = g_strdup_printf (_("“%s” cannot be compared with itself: "
                                  "choose another layer as the reference"),
                                gimp_item_get_name (drawable));
      return GIMP_PDB_CALLING_ERROR;
    }
  else if (! gimp_item_is_valid (*other) || ! gimp_item_is_layer (*other) ||
           gimp_item_get_image (*other) != image)
    {
      *error = g_strdup (_("The reference must be another layer of the same image"));
      return GIMP_PDB_CALLING_ERROR;
    }

  width = gimp_drawable_width (drawable);
  height = gimp_drawable_height (drawable);
  gimp_drawable_offsets (drawable, &x, &y);
  other_width = gimp_drawable_width (*other);
  other_height = gimp_drawable_height (*other);
  gimp_drawable_offsets (*other, &other_x, &other_y);

  if (width != other_width || height != other_height ||
      x != other_x || y != other_y)
    {
      gchar *name = gimp_item_get_name (drawable);
      gchar *other_name = gimp_item_get_name (*other);

      *error = g_strdup_printf (_("The layers differ in size or position: the "
                                  "reference “%s” is %d×%d pixels at (%d, %d), "
                                  "the compared “%s” is %d×%d pixels at (%d, %d). "
                                  "Give them the same size and position first "
                                  "(Layer > Layer to Image Size on both, for "
                                  "example)"),
                                other_name, other_width, other_height,
                                other_x, other_y,
                                name, width, height, x, y);
      g_free (name);
      g_free (other_name);
      return GIMP_PDB_EXECUTION_ERROR;
    }

  return GIMP_PDB_SUCCESS;
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
  GimpRunMode        run_mode;
  GimpPDBStatusType  status = GIMP_PDB_SUCCESS;
  CompareVals        vals = default_vals;
  gint32             image;
  gint32             drawable;
  gint32             other = -1;
  gint32             layer = -1;
  gdouble            distance = NAN;

  bind_domain ();

  g_clear_pointer (&error, g_free);
  *nreturn_vals = 1;
  *return_vals = values;
  values[0].type = GIMP_PDB_STATUS;

  run_mode = param[0].data.d_int32;
  image = param[1].data.d_image;
  drawable = param[2].data.d_drawable;

  switch (run_mode)
    {
    case GIMP_RUN_INTERACTIVE:
      gimp_get_data (PLUG_IN_PROC, &vals);
      if (vals.network < 0 || vals.network >= N_NETWORKS)
        vals = default_vals;
      if (gimp_image_base_type (image) == GIMP_RGB &&
          gimp_item_is_valid (drawable) && gimp_item_is_layer (drawable))
        {
          other = layer_below (image, drawable);
          if (other == -1)
            other = any_other_layer (image, drawable);
          if (other == -1)
            {
              error = g_strdup (_("The image has only one layer: open the "
                                  "reference as a second layer (File > Open "
                                  "as Layers...) and compare again"));
              status = GIMP_PDB_EXECUTION_ERROR;
            }
          else if (! compare_dialog (image, drawable, &other, &vals))
            status = GIMP_PDB_CANCEL;
        }
      break;

    case GIMP_RUN_NONINTERACTIVE:
      if (nparams != 10)
        {
          error = g_strdup_printf (_("%s takes 10 arguments, not %d"),
                                   PLUG_IN_PROC, nparams);
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
      gimp_get_data (PLUG_IN_PROC, &vals);
      break;

    default:
      status = GIMP_PDB_CALLING_ERROR;
      break;
    }

  if (status == GIMP_PDB_SUCCESS)
    status = check_values (&vals, &error);
  if (status == GIMP_PDB_SUCCESS)
    status = check_layers (image, drawable, &other, &error);
  if (status == GIMP_PDB_SUCCESS)
    gegl_init (NULL, NULL);   /* only now: it loads every GEGL module */
  if (status == GIMP_PDB_SUCCESS &&
      ! (gegl_has_operation ("perceptual:distance") &&
         gegl_has_operation ("perceptual:heatmap") &&
         gegl_has_operation ("perceptual:layer-difference")))
    {
      gchar *user_dir = g_build_filename (g_get_user_data_dir (),
                                          "gegl-0.4", "plug-ins", NULL);

      error = g_strdup_printf (_("The perceptual GEGL operations are not "
                                 "installed: put gegl-perceptual.so into "
                                 "GEGL's module folder or into %s"),
                               user_dir);
      g_free (user_dir);
      status = GIMP_PDB_EXECUTION_ERROR;
    }

  if (status == GIMP_PDB_SUCCESS)
    {
      gimp_image_undo_group_start (image);
      layer = compare_layers (image, drawable, other, &vals, &distance, &error);
      gimp_image_undo_group_end (image);
      if (layer == -1)
        status = GIMP_PDB_EXECUTION_ERROR;
    }

  if (status == GIMP_PDB_SUCCESS)
    {
      if (run_mode == GIMP_RUN_INTERACTIVE)
        gimp_set_data (PLUG_IN_PROC, &vals, sizeof (vals));

      if (run_mode != GIMP_RUN_NONINTERACTIVE)
        {
          gchar *compared = gimp_item_get_name (drawable);
          gchar *reference = gimp_item_get_name (other);
          gchar *message;

          message = g_strdup_printf (_("Perceptual distance of “%s” from “%s” "
                                       "(%s, %s): %.6f"),
                                     compared, reference,
                                     network_nicks[vals.network],
                                     calibration_nicks[vals.calibration],
                                     distance);
          gimp_message (message);
          g_free (message);
          g_free (compared);
          g_free (reference);
          gimp_displays_flush ();
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
