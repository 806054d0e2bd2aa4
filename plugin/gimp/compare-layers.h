/* What the GIMP 2.10 and GIMP 3 plug-ins share: comparing two layers'
 * buffers with the perceptual ops, the checks on the layers, and the
 * texts a user reads.  GEGL and GLib only: no libgimp.
 */
#ifndef COMPARE_LAYERS_H
#define COMPARE_LAYERS_H

#include <gegl.h>

G_BEGIN_DECLS

#define COMPARE_PROC "plug-in-perceptual-compare"

/* What the new layer shows. */
typedef enum
{
  COMPARE_HEATMAP,
  COMPARE_DISTANCE_MAP,
  COMPARE_LAYER_DIFFERENCE
} CompareOutput;

/* Nicks of the outputs, in that order: "heatmap", "distance-map",
 * "layer-difference".
 */
extern const char *const compare_output_nicks[3];

/* A user's choice.  The names are the ops' enum nicks: a network of the
 * core's catalogue, "default" or a calibration name, a colour map.
 */
typedef struct
{
  const char    *network;
  const char    *calibration;
  CompareOutput  output;
  int            layer;          /* 1-based; for COMPARE_LAYER_DIFFERENCE */
  const char    *colormap;       /* for COMPARE_HEATMAP */
  double         opacity;        /* for COMPARE_HEATMAP */
} CompareSettings;

/* Reports how far the work is, from 0 to 1. */
typedef void (*CompareProgress) (double   fraction,
                                 gpointer data);

/* Binds the text domain; the GIMP plug-ins call it before any text. */
void         compare_bind_domain       (void);

/* Whether the ops are installed (after gegl_init ()); else the error says
 * where to put them.
 */
gboolean     compare_ops_available     (GError              **error);

/* Checks the settings against the ops' choices and the network's layers;
 * the error names the argument and what it may be.
 */
gboolean     compare_check_settings    (const CompareSettings *settings,
                                        GError              **error);

/* The label of a network of the catalogue, translated ("SqueezeNet 1.1"). */
const char  *compare_network_label     (const char           *network);

/* Whether a model for network + calibration is installed. */
gboolean     compare_model_installed   (const char           *network,
                                        const char           *calibration);

/* One sentence naming the networks without an installed model for
 * `calibration` and the command that installs one, or NULL when all are.
 */
char        *compare_missing_models    (const char           *calibration);

/* The refusal of two layers of different sizes or positions, with how to
 * make them match.
 */
char        *compare_size_mismatch     (const char           *reference,
                                        const GeglRectangle  *reference_area,
                                        const char           *compared,
                                        const GeglRectangle  *compared_area);

/* FALSE, and an error that says what to do, when a layer's outer rows or
 * columns are wholly transparent: padding (Layer > Layer to Image Size
 * makes it) under which the ops, which ignore alpha, would compare
 * whatever colour lies there.
 */
gboolean     compare_check_padding     (GeglBuffer           *buffer,
                                        const char           *name,
                                        GError              **error);

/* Computes the comparison of `compared` with `reference` (buffers of the
 * same extent), reporting progress as it goes; the result stays in GEGL's
 * cache for compare_job_write ().  The distance and, for a layer's
 * difference, its term come back too.
 */
typedef struct _CompareJob CompareJob;

CompareJob  *compare_job_new           (GeglBuffer           *reference,
                                        GeglBuffer           *compared,
                                        const CompareSettings *settings);
gboolean     compare_job_run           (CompareJob           *job,
                                        CompareProgress       progress,
                                        gpointer              progress_data,
                                        GError              **error);
double       compare_job_distance      (const CompareJob     *job);
double       compare_job_term          (const CompareJob     *job);
/* Writes the result into `target` (the new layer's buffer). */
void         compare_job_write         (CompareJob           *job,
                                        GeglBuffer           *target);
void         compare_job_free          (CompareJob           *job);

/* The new layer's name, e.g. "Perceptual heatmap (squeeze, lpips-v0.1):
 * 0.0155".
 */
char        *compare_layer_name        (const CompareSettings *settings,
                                        double                distance,
                                        double                term);

/* The message shown after a run: the distance of `compared` from
 * `reference` and how to read it.
 */
char        *compare_report            (const CompareSettings *settings,
                                        const char           *compared,
                                        const char           *reference,
                                        double                distance);

/* Names of the parasite that marks the layers the plug-in made, so that
 * they are never taken as the default reference.
 */
#define COMPARE_RESULT_PARASITE "gegl-perceptual-result"

G_END_DECLS

#endif
