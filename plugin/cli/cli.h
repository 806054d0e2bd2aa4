/* The gegl-perceptual command line: one function per command. */
#ifndef CLI_H
#define CLI_H

#include <glib.h>
#include <gegl.h>

#include "gegl/perceptual-models.h"

G_BEGIN_DECLS

int  cli_compare (int argc, char **argv);
int  cli_models  (int argc, char **argv);
int  cli_fetch   (int argc, char **argv);
int  cli_2afc    (int argc, char **argv);
int  cli_jnd     (int argc, char **argv);

/* The threads a comparison may use: BLIS_NUM_THREADS, else
 * OMP_NUM_THREADS, else the number of cores (read once).
 */
int  cli_threads (void);

/* The command line's own errors: a message for people. */
#define CLI_ERROR (cli_error_quark ())
GQuark cli_error_quark (void);

/* Prints "gegl-perceptual: <message>" on stderr. */
void cli_error   (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* `value` as a JSON string literal, quotes included. */
char *cli_json_string (const char *value);

/* The options that choose a model and a distance, as given. */
typedef struct
{
  char *network, *calibration, *weights, *distance, *layers;
  char *network_help;
} CliModelArgs;

void        cli_model_add_entries (GOptionContext     *ctx,
                                   CliModelArgs       *args);
/* After gegl_init (): FALSE (and a message) for unknown names.  Without
 * --network, --weights means the file's network.  The choice points
 * into args.
 */
gboolean    cli_model_choice      (const CliModelArgs *args,
                                   PerceptualChoice   *choice);
void        cli_model_args_clear  (CliModelArgs       *args);

/* An enum value from its nick, or FALSE and a message naming `what`. */
gboolean    cli_parse_enum        (GType               type,
                                   const char         *nick,
                                   int                *value,
                                   const char         *what);

/* Catching the first warning (or worse) this thread logs, into the
 * GString returned, until cli_catch_end () frees it: GEGL's loaders and
 * savers report failures only that way.
 */
GString    *cli_catch_begin       (void);
void        cli_catch_end         (GString            *caught);

/* The heatmap `heat` with a legend below it: a bar of the colour map
 * `colormap` from lo to hi, the values of six ticks written under it.
 * A new buffer, in heat's format.
 */
GeglBuffer *cli_add_legend        (GeglBuffer         *heat,
                                   const char         *colormap,
                                   double              lo,
                                   double              hi);

/* The largest images read: a side, and in all. */
#define CLI_MAX_SIDE   65536
#define CLI_MAX_PIXELS ((guint64) 1000000000)

/* The image at `path` through GEGL, or NULL with *error set: a file that
 * is missing, a folder, unreadable, larger than the limits above (judged
 * from its header, before decoding), or that GEGL's loader reports it
 * could not read (GEGL would give a placeholder or a partial image).
 */
GeglBuffer *cli_load              (const char         *path,
                                   GError            **error);

/* The one number in a NumPy file (float32 or float64, any shape of one
 * element), or FALSE with *error set.
 */
gboolean    cli_read_npy_number   (const char         *path,
                                   double             *value,
                                   GError            **error);

/* Mean 2AFC score: p[i] is the fraction of people who judged p1 closer;
 * a tie in distance scores 0.5.
 */
double      cli_score_2afc        (const double       *d0,
                                   const double       *d1,
                                   const double       *p,
                                   gsize               n);
/* JND mAP: pairs ranked by distance, `same` (the fraction of people who
 * saw no difference) as soft labels, VOC average precision over all
 * points.  Needs some same > 0.
 */
double      cli_score_jnd         (const double       *d,
                                   const double       *same,
                                   gsize               n);

G_END_DECLS

#endif
