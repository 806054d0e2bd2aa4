/* Reading one number from a NumPy .npy file (BAPPS's judgements), as an
 * untrusted file: a small size limit, the header checked field by field.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cli.h"

#define MAX_FILE 4096

/* The text after "'key':" in the header dict, spaces skipped. */
static const char *
field (const char *header,
       const char *key)
{
  char       *quoted = g_strdup_printf ("'%s':", key);
  const char *p = strstr (header, quoted);

  if (p)
    for (p += strlen (quoted); *p == ' '; p++)
      ;
  g_free (quoted);
  return p;
}

/* The number of elements of a shape "(...)"; -1 if malformed. */
static gint64
shape_elements (const char *p)
{
  gint64 n = 1;

  if (!p || *p++ != '(')
    return -1;
  while (*p != ')')
    {
      char   *end;
      guint64 d;

      while (*p == ' ' || *p == ',')
        p++;
      if (*p == ')')
        break;
      d = g_ascii_strtoull (p, &end, 10);
      if (end == p || d > 1024)
        return -1;
      n *= d;
      p = end;
    }
  return n;
}

gboolean
cli_read_npy_number (const char *path,
                     double     *value,
                     GError    **error)
{
  char       *data = NULL, *header;
  gsize       length;
  guint       header_len, offset;
  const char *descr, *order;
  gboolean    ok = FALSE;
  GError     *file_error = NULL;
  GStatBuf    st;

  /* A folder, a FIFO or a device would block or be read without end. */
  if (g_stat (path, &st) == 0 && (!S_ISREG (st.st_mode) || st.st_size > MAX_FILE))
    {
      if (S_ISREG (st.st_mode))
        g_set_error (error, CLI_ERROR, 0, _("%s: not a NumPy file holding one number "
                                            "(%lld bytes is too large for one)"),
                     path, (long long) st.st_size);
      else
        g_set_error (error, CLI_ERROR, 0, _("%s is not a regular file"), path);
      return FALSE;
    }
  if (!g_file_get_contents (path, &data, &length, &file_error))
    {
      g_propagate_error (error, file_error);
      return FALSE;
    }
  if (length > MAX_FILE || length < 10 || memcmp (data, "\x93NUMPY", 6))
    goto bad;
  /* Version 1 has a 2-byte header length, versions 2 and 3 a 4-byte one. */
  if (data[6] == 1)
    {
      header_len = (guchar) data[8] | (guchar) data[9] << 8;
      offset = 10;
    }
  else if ((data[6] == 2 || data[6] == 3) && length >= 12)
    {
      header_len = (guchar) data[8] | (guchar) data[9] << 8 |
                   (guint) (guchar) data[10] << 16 | (guint) (guchar) data[11] << 24;
      offset = 12;
    }
  else
    goto bad;
  if (header_len > length - offset)
    goto bad;
  header = g_strndup (data + offset, header_len);
  descr = field (header, "descr");
  order = field (header, "fortran_order");
  offset += header_len;
  if (descr && order && shape_elements (field (header, "shape")) == 1)
    {
      /* Either byte order: '<' little-endian, '>' big-endian. */
      gboolean big = g_str_has_prefix (descr, "'>");

      if ((g_str_has_prefix (descr, "'<f8'") || g_str_has_prefix (descr, "'>f8'")) &&
          length - offset == 8)
        {
          guint64 bits;

          memcpy (&bits, data + offset, 8);
          bits = big ? GUINT64_FROM_BE (bits) : GUINT64_FROM_LE (bits);
          memcpy (value, &bits, 8);
          ok = TRUE;
        }
      else if ((g_str_has_prefix (descr, "'<f4'") || g_str_has_prefix (descr, "'>f4'")) &&
               length - offset == 4)
        {
          guint32 bits;
          float   f;

          memcpy (&bits, data + offset, 4);
          bits = big ? GUINT32_FROM_BE (bits) : GUINT32_FROM_LE (bits);
          memcpy (&f, &bits, 4);
          *value = f;
          ok = TRUE;
        }
    }
  g_free (header);
  if (ok && !isfinite (*value))
    {
      g_set_error (error, CLI_ERROR, 0, _("%s: the number is not finite"), path);
      g_free (data);
      return FALSE;
    }

bad:
  if (!ok)
    g_set_error (error, CLI_ERROR, 0, _("%s: not a NumPy file holding one float32 or "
                                "float64 number"), path);
  g_free (data);
  return ok;
}
