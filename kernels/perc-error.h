/* The error domain of the perceptual-distance core. */
#ifndef PERC_ERROR_H
#define PERC_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

#define PERC_ERROR (perc_error_quark ())

typedef enum
{
  PERC_ERROR_FILE,          /* a weights file is missing or unreadable */
  PERC_ERROR_FORMAT,        /* a weights file is malformed */
  PERC_ERROR_MODEL,         /* a weights file does not fit the network */
  PERC_ERROR_INPUT,         /* an image is unusable (size, NaN, ...) */
  PERC_ERROR_CANCELLED      /* the caller stopped the work */
} PercError;

GQuark   perc_error_quark (void);

/* Sets "<path>: <message>" in the PERC_ERROR domain; returns FALSE. */
gboolean perc_error_set   (GError    **error,
                           PercError   code,
                           const char *path,
                           const char *format,
                           ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS

#endif
