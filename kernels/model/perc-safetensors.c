/* Safetensors reader.  The file is untrusted: every length, offset and
 * shape is checked before it is used, and the tensors must tile the data
 * area exactly (no overlaps, no holes), as the format requires.  The
 * file, its header and what the header holds are bounded (the limits in
 * perc-safetensors.h, and the header's below), and checked before they
 * are read or parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "perc-error.h"
#include "model/perc-safetensors.h"

struct _PercSafetensors
{
  char           *path;
  GBytes         *contents;
  PercTensorView *tensors;
  guint           n_tensors;
  GHashTable     *by_name;    /* name -> PercTensorView* */
  GHashTable     *metadata;   /* key -> value, both owned */
  GStringChunk   *names;
};

static const struct
{
  const char *name;
  PercDtype   dtype;
  gsize       size;
} dtypes[] = {
  { "F32", PERC_DTYPE_F32, 4 },
  { "F16", PERC_DTYPE_F16, 2 },
  { "F64", PERC_DTYPE_F64, 8 },
  { "I64", PERC_DTYPE_I64, 8 },
  { "I32", PERC_DTYPE_I32, 4 },
  { "U8",  PERC_DTYPE_U8,  1 },
};

const char *
perc_dtype_name (PercDtype dtype)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (dtypes[i].dtype == dtype)
      return dtypes[i].name;
  return "?";
}

/* Every format error starts with the file's name and the same words,
 * "not a valid safetensors file: ", written out in each message so that
 * translators see whole sentences.
 */
#define fail(error, path, ...) \
  perc_error_set (error, PERC_ERROR_FORMAT, path, __VA_ARGS__)

/* The header is checked by a scanner of its own before json-glib sees
 * it: json-glib's parser is recursive (150 KB of "[[[" overflow the
 * stack), slow on duplicated keys (each one searches the list of the
 * object's members: quadratic), costs about twenty times the header's
 * size in memory, and raises a critical on a header of white space.  The
 * scanner is a loop over the bytes with a stack of at most MAX_DEPTH
 * levels and refuses, naming the limit, what no model file holds:
 *
 *  - nesting deeper than the format's three levels: the top object, a
 *    tensor's entry or __metadata__, and a tensor's shape and
 *    data_offsets arrays;
 *  - more than PERC_SAFETENSORS_MAX_TENSORS tensors (ResNet-50 has 265),
 *    more than PERC_SAFETENSORS_MAX_MEMBERS members in any other object
 *    (a tensor's entry has three, __metadata__ about ten), more than
 *    PERC_MAX_RANK elements in an array;
 *  - a key twice in one object (json-glib would keep the last one, other
 *    readers the first: the file would mean different things to each);
 *  - keys longer than PERC_SAFETENSORS_MAX_KEY bytes (tensor names have
 *    at most 34), strings longer than PERC_SAFETENSORS_MAX_STRING
 *    (metadata values are names, digests and file names), numbers longer
 *    than MAX_NUMBER characters (a 64-bit offset has at most 20 digits),
 *    and NUL characters and lone surrogates in strings (the names become
 *    C strings);
 *  - anything that is not JSON, a header of white space, a top-level
 *    value that is not an object, text after it.
 *
 * Within those limits the header of a valid file, in compact JSON, has
 * at most about 2.4 MB (4096 entries of a 256-byte name, a dtype, eight
 * 20-digit dimensions and two offsets, and 64 metadata strings of 4 KiB):
 * PERC_SAFETENSORS_MAX_HEADER, 4 MiB, leaves room for white space and
 * bounds what the other limits allow.  The largest real header,
 * ResNet-50's, has 25 KB.
 */
#define MAX_DEPTH  3
#define MAX_NUMBER 32

typedef struct
{
  const char *path;
  const char *text;
  gsize       length;
  gsize       pos;
  const char *entry;   /* the top-level member being scanned, for messages */
  GError    **error;
} Scan;

typedef struct
{
  gboolean    object;      /* else an array */
  guint       count;       /* members or elements so far */
  GHashTable *keys;        /* an object's keys so far */
} Frame;

static gboolean
unexpected (Scan *s)
{
  if (s->pos >= s->length)
    return fail (s->error, s->path,
                 _("not a valid safetensors file: the header is not JSON (it "
                   "ends at byte %zu, inside a value)"), s->pos);
  return fail (s->error, s->path,
               _("not a valid safetensors file: the header is not JSON "
                 "(unexpected character at byte %zu)"), s->pos);
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);

      if (d < 0)
        return -1;
      v = v << 4 | d;
    }
  return v;
}

/* The string whose opening quote is at s->pos; `key`, if not NULL,
 * receives it decoded (at most `limit` bytes and a NUL).
 */
static gboolean
scan_string (Scan  *s,
             char  *key,
             gsize  limit)
{
  gsize start = s->pos, n = 0;

  s->pos++;
  for (;;)
    {
      char  out[8];
      gsize n_out = 1;
      guchar c;

      if (s->pos >= s->length)
        return unexpected (s);
      c = s->text[s->pos];
      if (c == '"')
        break;
      if (c < 0x20)
        return fail (s->error, s->path,
                     _("not a valid safetensors file: the header is not JSON "
                       "(a control character in the string at byte %zu)"), start);
      out[0] = c;
      if (c != '\\')
        s->pos++;
      else
        {
          const char *escapes = "\"\"\\\\//b\bf\fn\nr\rt\t";
          const char *e = NULL;
          int         u;

          if (s->pos + 1 >= s->length)
            return unexpected (s);
          c = s->text[s->pos + 1];
          for (const char *p = escapes; *p && !e; p += 2)
            if (*p == c)
              e = p;
          if (e)
            {
              out[0] = e[1];
              s->pos += 2;
            }
          else if (c != 'u' || s->pos + 6 > s->length ||
                   (u = hex4 (s->text + s->pos + 2)) < 0)
            return fail (s->error, s->path,
                         _("not a valid safetensors file: the header is not "
                           "JSON (an invalid escape in the string at byte %zu)"),
                         start);
          else
            {
              s->pos += 6;
              /* A high surrogate must be followed by a low one. */
              if (u >= 0xd800 && u < 0xdc00)
                {
                  int low = s->pos + 6 <= s->length && s->text[s->pos] == '\\' &&
                            s->text[s->pos + 1] == 'u'
                            ? hex4 (s->text + s->pos + 2) : -1;

                  if (low < 0xdc00 || low > 0xdfff)
                    u = -1;
                  else
                    {
                      u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
                      s->pos += 6;
                    }
                }
              else if (u >= 0xdc00 && u <= 0xdfff)
                u = -1;
              if (u <= 0)
                return fail (s->error, s->path,
                             _("not a valid safetensors file: the string at byte "
                               "%zu of the header holds a NUL character or a lone "
                               "surrogate"), start);
              n_out = g_unichar_to_utf8 (u, out);
            }
        }
      if (n + n_out > limit)
        return key
          ? fail (s->error, s->path,
                  _("not a valid safetensors file: the key at byte %zu of the "
                    "header is longer than %d bytes"), start, (int) limit)
          : fail (s->error, s->path,
                  _("not a valid safetensors file: a string in \"%s\" is longer "
                    "than %d bytes"), s->entry, (int) limit);
      if (key)
        memcpy (key + n, out, n_out);
      n += n_out;
    }
  s->pos++;
  if (key)
    key[n] = '\0';
  return TRUE;
}

static gsize
skip_digits (const Scan *s,
             gsize       p)
{
  while (p < s->length && g_ascii_isdigit (s->text[p]))
    p++;
  return p;
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean
scan_number (Scan *s)
{
  const char *t = s->text;
  gsize       start = s->pos, p = s->pos;
  gboolean    ok;

  if (p < s->length && t[p] == '-')
    p++;
  ok = p < s->length && g_ascii_isdigit (t[p]);
  if (ok)
    p = t[p] == '0' ? p + 1 : skip_digits (s, p);
  if (ok && p < s->length && t[p] == '.')
    {
      ok = p + 1 < s->length && g_ascii_isdigit (t[p + 1]);
      p = skip_digits (s, p + 1);
    }
  if (ok && p < s->length && (t[p] == 'e' || t[p] == 'E'))
    {
      p++;
      if (p < s->length && (t[p] == '+' || t[p] == '-'))
        p++;
      ok = p < s->length && g_ascii_isdigit (t[p]);
      p = skip_digits (s, p);
    }
  if (!ok)
    return fail (s->error, s->path,
                 _("not a valid safetensors file: the header is not JSON (an "
                   "invalid number at byte %zu)"), start);
  if (p - start > MAX_NUMBER)
    return fail (s->error, s->path,
                 _("not a valid safetensors file: a number in \"%s\" is longer "
                   "than %d characters"), s->entry, MAX_NUMBER);
  s->pos = p;
  return TRUE;
}

static gboolean
scan_literal (Scan *s)
{
  static const char *const literals[] = { "true", "false", "null" };

  for (guint i = 0; i < G_N_ELEMENTS (literals); i++)
    {
      gsize n = strlen (literals[i]);

      if (s->length - s->pos >= n && !memcmp (s->text + s->pos, literals[i], n))
        {
          s->pos += n;
          return TRUE;
        }
    }
  return unexpected (s);
}

static void
skip_space (Scan *s)
{
  while (s->pos < s->length &&
         (s->text[s->pos] == ' ' || s->text[s->pos] == '\t' ||
          s->text[s->pos] == '\n' || s->text[s->pos] == '\r'))
    s->pos++;
}

/* Checks the header against the limits above and JSON's grammar; sets
 * `n_members` to the number of the top object's members.
 */
static gboolean
scan_header (const char *path,
             const char *text,
             gsize       length,
             guint      *n_members,
             GError    **error)
{
  enum { VALUE, FIRST_MEMBER, MEMBER, COLON, FIRST_ELEMENT, NEXT, END } want = VALUE;
  Scan     s = { path, text, length, 0, "", error };
  Frame    stack[MAX_DEPTH];
  char     keys[MAX_DEPTH][PERC_SAFETENSORS_MAX_KEY + 1];
  int      depth = 0;
  gboolean ok = TRUE;

  skip_space (&s);
  if (s.pos == length)
    return fail (error, path,
                 _("not a valid safetensors file: the header is only white space, "
                   "not a JSON object"));
  if (text[s.pos] != '{')
    return fail (error, path,
                 _("not a valid safetensors file: the header is not a JSON object"));
  while (ok)
    {
      Frame *top = depth ? &stack[depth - 1] : NULL;
      char   c;

      skip_space (&s);
      if (s.pos == length)
        break;
      c = text[s.pos];
      switch (want)
        {
        case VALUE:
          if (top && !top->object && ++top->count > PERC_MAX_RANK)
            {
              ok = fail (error, path,
                         _("not a valid safetensors file: an array in \"%s\" has "
                           "more than %d elements"), s.entry, PERC_MAX_RANK);
              break;
            }
          if (c == '{' || c == '[')
            {
              if (depth == MAX_DEPTH)
                {
                  ok = fail (error, path,
                             _("not a valid safetensors file: \"%s\" is nested "
                               "deeper than the %d levels of a model file's "
                               "header"), s.entry, MAX_DEPTH);
                  break;
                }
              stack[depth++] = (Frame) {
                c == '{', 0,
                c == '{' ? g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL)
                         : NULL
              };
              want = c == '{' ? FIRST_MEMBER : FIRST_ELEMENT;
              s.pos++;
              continue;
            }
          if (c == '"')
            ok = scan_string (&s, NULL, PERC_SAFETENSORS_MAX_STRING);
          else if (c == '-' || g_ascii_isdigit (c))
            ok = scan_number (&s);
          else
            ok = scan_literal (&s);
          want = NEXT;
          break;

        case FIRST_ELEMENT:
        case FIRST_MEMBER:
          if (c != (want == FIRST_MEMBER ? '}' : ']'))
            {
              want = want == FIRST_MEMBER ? MEMBER : VALUE;
              continue;
            }
          /* An empty object or array: closed below. */
          want = NEXT;
          G_GNUC_FALLTHROUGH;
        case NEXT:
          if (c == ',')
            {
              want = top->object ? MEMBER : VALUE;
              s.pos++;
            }
          else if (c == (top->object ? '}' : ']'))
            {
              if (depth == 1)
                *n_members = top->count;
              if (top->keys)
                g_hash_table_destroy (top->keys);
              depth--;
              want = depth ? NEXT : END;
              s.pos++;
            }
          else
            ok = unexpected (&s);
          break;

        case MEMBER:
          {
            char *key = keys[depth - 1];

            if (c != '"')
              {
                ok = unexpected (&s);
                break;
              }
            ok = scan_string (&s, key, PERC_SAFETENSORS_MAX_KEY);
            if (!ok)
              break;
            if (g_hash_table_contains (top->keys, key))
              {
                ok = depth == 1
                  ? fail (error, path,
                          _("not a valid safetensors file: the header names "
                            "\"%s\" twice"), key)
                  : fail (error, path,
                          _("not a valid safetensors file: \"%s\" has the key "
                            "\"%s\" twice"), s.entry, key);
                break;
              }
            g_hash_table_add (top->keys, g_strdup (key));
            top->count++;
            if (depth == 1)
              {
                s.entry = key;
                if (top->count - g_hash_table_contains (top->keys, "__metadata__") >
                    PERC_SAFETENSORS_MAX_TENSORS)
                  ok = fail (error, path,
                             _("not a valid safetensors file: the header has more "
                               "than %d tensors"), PERC_SAFETENSORS_MAX_TENSORS);
              }
            else if (top->count > PERC_SAFETENSORS_MAX_MEMBERS)
              ok = fail (error, path,
                         _("not a valid safetensors file: \"%s\" has more than "
                           "%d members"), s.entry, PERC_SAFETENSORS_MAX_MEMBERS);
            want = COLON;
          }
          break;

        case COLON:
          if (c == ':')
            {
              want = VALUE;
              s.pos++;
            }
          else
            ok = unexpected (&s);
          break;

        case END:
          ok = fail (error, path,
                     _("not a valid safetensors file: the header is not JSON "
                       "(unexpected text at byte %zu, after its object)"), s.pos);
          break;
        }
    }
  if (ok && want != END)
    ok = unexpected (&s);
  while (depth > 0)
    if (stack[--depth].keys)
      g_hash_table_destroy (stack[depth].keys);
  return ok;
}

static gboolean
get_uint (JsonNode *node,
          guint64  *value)
{
  gint64 v;

  if (!node || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0)
    return FALSE;
  *value = (guint64) v;
  return TRUE;
}

static gboolean
parse_tensor (PercSafetensors *st,
              PercTensorView  *t,
              const char      *name,
              JsonNode        *node,
              const guint8    *data,
              guint64          data_size,
              guint64         *begin,
              GError         **error)
{
  const char *path = st->path;
  JsonObject *o;
  JsonNode   *n;
  JsonArray  *shape, *offsets;
  const char *dtype;
  gsize       elsize = 0;
  guint64     count = 1, end, n_bytes;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, path,
                 _("not a valid safetensors file: entry \"%s\" is not an object"),
                 name);
  o = json_node_get_object (node);

  n = json_object_get_member (o, "dtype");
  if (!n || !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_STRING)
    return fail (error, path,
                 _("not a valid safetensors file: tensor \"%s\" has no dtype"),
                 name);
  dtype = json_node_get_string (n);
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (!strcmp (dtype, dtypes[i].name))
      {
        t->dtype = dtypes[i].dtype;
        elsize = dtypes[i].size;
      }
  if (!elsize)
    return fail (error, path,
                 _("not a valid safetensors file: tensor \"%s\" has unsupported "
                   "dtype \"%s\""), name, dtype);

  n = json_object_get_member (o, "shape");
  if (!n || !JSON_NODE_HOLDS_ARRAY (n))
    return fail (error, path,
                 _("not a valid safetensors file: tensor \"%s\" has no shape"),
                 name);
  shape = json_node_get_array (n);
  if (json_array_get_length (shape) > PERC_MAX_RANK)
    return fail (error, path,
                 _("not a valid safetensors file: tensor \"%s\" has too many "
                   "dimensions"), name);
  t->rank = json_array_get_length (shape);
  for (int i = 0; i < t->rank; i++)
    {
      guint64 d;

      if (!get_uint (json_array_get_element (shape, i), &d) ||
          d > G_MAXINT32 || !g_uint64_checked_mul (&count, count, d))
        return fail (error, path,
                     _("not a valid safetensors file: tensor \"%s\" has an invalid "
                       "shape"), name);
      t->shape[i] = d;
    }
  if (count > G_MAXINT64 / 8)
    return fail (error, path,
                 _("not a valid safetensors file: tensor \"%s\" is too large"),
                 name);

  n = json_object_get_member (o, "data_offsets");
  if (!n || !JSON_NODE_HOLDS_ARRAY (n) ||
      json_array_get_length (offsets = json_node_get_array (n)) != 2 ||
      !get_uint (json_array_get_element (offsets, 0), begin) ||
      !get_uint (json_array_get_element (offsets, 1), &end))
    return fail (error, path,
                 _("not a valid safetensors file: tensor \"%s\" has invalid "
                   "data_offsets"), name);

  n_bytes = count * elsize;
  if (*begin > end || end > data_size)
    return fail (error, path,
                 _("not a valid safetensors file: tensor \"%s\" lies outside "
                   "the data area (%" PRIu64 "..%" PRIu64 " of %" PRIu64 " bytes)"),
                 name, *begin, end, data_size);
  if (end - *begin != n_bytes)
    return fail (error, path,
                 _("not a valid safetensors file: tensor \"%s\" has %" PRIu64
                   " bytes of data but its shape needs %" PRIu64),
                 name, end - *begin, n_bytes);

  t->name = name;
  t->n_elements = count;
  t->n_bytes = n_bytes;
  t->data = data + *begin;
  return TRUE;
}

static int
compare_begin (gconstpointer a,
               gconstpointer b)
{
  const PercTensorView *x = a, *y = b;
  return x->data < y->data ? -1 : x->data > y->data;
}

static gboolean
parse_metadata (PercSafetensors *st,
                JsonNode        *node,
                GError         **error)
{
  JsonObject *o;
  GList      *members, *l;
  gboolean    ok = TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, st->path,
                 _("not a valid safetensors file: __metadata__ is not an object"));
  o = json_node_get_object (node);
  members = json_object_get_members (o);
  for (l = members; l && ok; l = l->next)
    {
      JsonNode *v = json_object_get_member (o, l->data);

      if (!JSON_NODE_HOLDS_VALUE (v) ||
          json_node_get_value_type (v) != G_TYPE_STRING)
        ok = fail (error, st->path,
                   _("not a valid safetensors file: metadata \"%s\" is not a "
                     "string"), (const char *) l->data);
      else
        g_hash_table_insert (st->metadata, g_strdup (l->data),
                             g_strdup (json_node_get_string (v)));
    }
  g_list_free (members);
  return ok;
}

static gboolean
parse_header (PercSafetensors *st,
              JsonObject      *root,
              const guint8    *data,
              guint64          data_size,
              GError         **error)
{
  GList   *members, *l;
  guint    i = 0;
  guint64  expected = 0;
  gboolean ok = TRUE;

  members = json_object_get_members (root);
  st->tensors = g_new0 (PercTensorView, g_list_length (members));
  for (l = members; l && ok; l = l->next)
    {
      const char *name = l->data;
      JsonNode   *node = json_object_get_member (root, name);
      guint64     begin;

      if (!strcmp (name, "__metadata__"))
        {
          ok = parse_metadata (st, node, error);
          continue;
        }
      /* The parser's strings die with it. */
      name = g_string_chunk_insert (st->names, name);
      ok = parse_tensor (st, &st->tensors[i], name, node, data, data_size,
                         &begin, error);
      if (ok)
        i++;
    }
  g_list_free (members);
  if (!ok)
    return FALSE;
  st->n_tensors = i;

  if (st->n_tensors > 1)
    qsort (st->tensors, st->n_tensors, sizeof (PercTensorView), compare_begin);
  for (i = 0; i < st->n_tensors; i++)
    {
      guint64 begin = st->tensors[i].data - data;

      if (begin != expected)
        return begin < expected
          ? fail (error, st->path,
                  _("not a valid safetensors file: tensor \"%s\" overlaps "
                    "another tensor"), st->tensors[i].name)
          : fail (error, st->path,
                  _("not a valid safetensors file: the data area has a hole "
                    "before tensor \"%s\""), st->tensors[i].name);
      expected = begin + st->tensors[i].n_bytes;
      g_hash_table_insert (st->by_name, (gpointer) st->tensors[i].name,
                           &st->tensors[i]);
    }
  if (expected != data_size)
    return fail (error, st->path,
                 _("not a valid safetensors file: %" PRIu64 " bytes after the "
                   "last tensor"),
                 data_size - expected);
  return TRUE;
}

/* The 8-byte header length, against the file's size and the limit. */
static gboolean
check_header_length (const char   *name,
                     const guint8 *bytes,
                     guint64       size,
                     guint64      *header_size,
                     GError      **error)
{
  if (size < 8)
    return fail (error, name,
                 _("not a valid safetensors file: the file is only %zu bytes long"),
                 (gsize) size);
  *header_size = 0;
  for (int i = 7; i >= 0; i--)
    *header_size = (*header_size << 8) | bytes[i];
  if (*header_size > PERC_SAFETENSORS_MAX_HEADER)
    return fail (error, name,
                 _("not a valid safetensors file: header length %" PRIu64 " is "
                   "more than the %d MiB a model file's header may have"),
                 *header_size, PERC_SAFETENSORS_MAX_HEADER >> 20);
  if (*header_size < 2 || *header_size > size - 8)
    return fail (error, name,
                 _("not a valid safetensors file: header length %" PRIu64 " does "
                   "not fit a file of %zu bytes"), *header_size, (gsize) size);
  return TRUE;
}

/* The header's text: UTF-8, and within the scanner's limits. */
static gboolean
check_header (const char   *name,
              const guint8 *header,
              gsize         header_size,
              guint        *n_members,
              GError      **error)
{
  if (!g_utf8_validate ((const char *) header, header_size, NULL))
    return fail (error, name,
                 _("not a valid safetensors file: the header is not UTF-8 text"));
  return scan_header (name, (const char *) header, header_size, n_members, error);
}

PercSafetensors *
perc_safetensors_parse (const char *name,
                        GBytes     *contents,
                        GError    **error)
{
  PercSafetensors *st;
  JsonParser      *parser;
  JsonObject      *root;
  const guint8    *bytes;
  gsize            size;
  guint64          header_size;
  guint            n_members = 0;
  GError          *json_error = NULL;
  gboolean         ok;

  st = g_new0 (PercSafetensors, 1);
  st->path = g_strdup (name);
  st->contents = g_bytes_ref (contents);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->names = g_string_chunk_new (256);

  bytes = g_bytes_get_data (contents, &size);
  if (!check_header_length (name, bytes, size, &header_size, error) ||
      !check_header (name, bytes + 8, header_size, &n_members, error))
    goto error;

  /* Only now is json-glib safe to run, and fast. */
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *) bytes + 8,
                                   header_size, &json_error))
    {
      fail (error, name,
            _("not a valid safetensors file: the header is not JSON (%s)"),
            json_error->message);
      g_error_free (json_error);
      g_object_unref (parser);
      goto error;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      fail (error, name,
            _("not a valid safetensors file: the header is not a JSON object"));
      g_object_unref (parser);
      goto error;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  /* The scanner and json-glib read the same text: a difference would be
   * a bug in the scanner, which the fuzz target makes fatal.
   */
  if (json_object_get_size (root) != n_members)
    {
      g_warning ("%s: the header scanner counted %u members, json-glib %u",
                 name, n_members, json_object_get_size (root));
      fail (error, name,
            _("not a valid safetensors file: the header is not a JSON object"));
      g_object_unref (parser);
      goto error;
    }
  ok = parse_header (st, root, bytes + 8 + header_size, size - 8 - header_size,
                     error);
  g_object_unref (parser);
  if (ok)
    return st;

error:
  perc_safetensors_free (st);
  return NULL;
}

static gboolean
not_regular (const char *path,
             mode_t      mode,
             GError    **error)
{
  const char *what;

  if (S_ISDIR (mode))
    what = _("it is a folder, not a model file");
  else if (S_ISFIFO (mode))
    what = _("it is a named pipe (FIFO), not a model file");
  else if (S_ISCHR (mode))
    what = _("it is a character device, not a model file");
  else if (S_ISBLK (mode))
    what = _("it is a block device, not a model file");
  else if (S_ISSOCK (mode))
    what = _("it is a socket, not a model file");
  else
    what = _("it is not a regular file, so not a model file");
  return perc_error_set (error, PERC_ERROR_FILE, path, "%s", what);
}

/* Reads exactly `n` bytes; a file that ends sooner has shrunk since it
 * was measured.
 */
static gboolean
read_exactly (const char *path,
              int         fd,
              guint8     *buffer,
              gsize       n,
              GError    **error)
{
  while (n > 0)
    {
      gssize r = read (fd, buffer, MIN (n, (gsize) G_MAXSSIZE));

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;

          return perc_error_set (error, PERC_ERROR_FILE, path,
                                 _("cannot read the file: %s"), g_strerror (saved));
        }
      if (r == 0)
        return perc_error_set (error, PERC_ERROR_FILE, path,
                               _("the file became shorter while it was read"));
      buffer += r;
      n -= r;
    }
  return TRUE;
}

PercSafetensors *
perc_safetensors_load (const char *path,
                       GError    **error)
{
  PercSafetensors *st = NULL;
  GStatBuf         info;
  guint8          *data = NULL;
  guint8           head[8], extra;
  guint64          header_size;
  guint            n_members;
  gsize            size;
  gssize           r;
  int              fd;

  /* Only a regular file is opened: opening a FIFO waits for a writer,
   * some devices act when opened, and /dev/zero never ends.  The file is
   * checked again once open, in case it was replaced in between.
   */
  if (g_stat (path, &info) != 0)
    {
      int saved = errno;

      perc_error_set (error, PERC_ERROR_FILE, path, _("cannot open the file: %s"),
                      g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (info.st_mode))
    {
      not_regular (path, info.st_mode, error);
      return NULL;
    }
  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      perc_error_set (error, PERC_ERROR_FILE, path, _("cannot open the file: %s"),
                      g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &info) != 0)
    {
      int saved = errno;

      perc_error_set (error, PERC_ERROR_FILE, path, _("cannot read the file: %s"),
                      g_strerror (saved));
      goto out;
    }
  if (!S_ISREG (info.st_mode))
    {
      not_regular (path, info.st_mode, error);
      goto out;
    }
  if (info.st_size > PERC_SAFETENSORS_MAX_FILE)
    {
      perc_error_set (error, PERC_ERROR_FORMAT, path,
                      _("the file has %" PRId64 " bytes, more than the "
                        "%d GiB a model file may have"),
                      (int64_t) info.st_size, (int) (PERC_SAFETENSORS_MAX_FILE >> 30));
      goto out;
    }
  size = info.st_size;

  /* Read, not mapped: a file truncated while mapped would raise SIGBUS.
   * The header's length and text are checked before the rest is read or
   * memory for it taken.
   */
  if (!read_exactly (path, fd, head, MIN (size, 8), error) ||
      (size >= 8 && !check_header_length (path, head, size, &header_size, error)))
    goto out;
  if (size < 8)
    header_size = 0;
  data = g_try_malloc (MAX (MIN (size, 8 + header_size), 1));
  if (!data)
    goto no_memory;
  memcpy (data, head, MIN (size, 8));
  if (size >= 8 &&
      (!read_exactly (path, fd, data + 8, header_size, error) ||
       !check_header (path, data + 8, header_size, &n_members, error)))
    goto out;
  if (size > 8 + header_size)
    {
      guint8 *all = g_try_realloc (data, size);

      if (!all)
        goto no_memory;
      data = all;
      if (!read_exactly (path, fd, data + 8 + header_size, size - 8 - header_size,
                         error))
        goto out;
    }
  do
    r = read (fd, &extra, 1);
  while (r < 0 && errno == EINTR);
  if (r != 0)
    {
      if (r > 0)
        perc_error_set (error, PERC_ERROR_FILE, path,
                        _("the file became longer while it was read"));
      else
        {
          int saved = errno;

          perc_error_set (error, PERC_ERROR_FILE, path,
                          _("cannot read the file: %s"), g_strerror (saved));
        }
      goto out;
    }
  {
    GBytes *bytes = g_bytes_new_take (data, size);

    data = NULL;
    st = perc_safetensors_parse (path, bytes, error);
    g_bytes_unref (bytes);
  }

  goto out;

no_memory:
  {
    char *have = g_format_size (size);

    perc_error_set (error, PERC_ERROR_FILE, path,
                    _("not enough memory to read the file (%s)"), have);
    g_free (have);
  }
out:
  g_free (data);
  g_close (fd, NULL);
  return st;
}

void
perc_safetensors_free (PercSafetensors *st)
{
  if (!st)
    return;
  g_hash_table_destroy (st->by_name);
  g_hash_table_destroy (st->metadata);
  g_string_chunk_free (st->names);
  g_bytes_unref (st->contents);
  g_free (st->tensors);
  g_free (st->path);
  g_free (st);
}

const char *
perc_safetensors_get_path (const PercSafetensors *st)
{
  return st->path;
}

guint
perc_safetensors_n_tensors (const PercSafetensors *st)
{
  return st->n_tensors;
}

const PercTensorView *
perc_safetensors_tensor (const PercSafetensors *st,
                         guint                  index)
{
  g_return_val_if_fail (index < st->n_tensors, NULL);
  return &st->tensors[index];
}

const PercTensorView *
perc_safetensors_lookup (const PercSafetensors *st,
                         const char            *name)
{
  return g_hash_table_lookup (st->by_name, name);
}

const char *
perc_safetensors_metadata (const PercSafetensors *st,
                           const char            *key)
{
  return g_hash_table_lookup (st->metadata, key);
}
