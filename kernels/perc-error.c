#include <glib/gi18n-lib.h>

#include "perc-error.h"

G_DEFINE_QUARK (perc-error-quark, perc_error)

gboolean
perc_error_set (GError    **error,
                PercError   code,
                const char *path,
                const char *format,
                ...)
{
  va_list args;
  char   *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  /* TRANSLATORS: a file's name, then what is wrong with it. */
  g_set_error (error, PERC_ERROR, code, _("%s: %s"), path, message);
  g_free (message);
  return FALSE;
}
