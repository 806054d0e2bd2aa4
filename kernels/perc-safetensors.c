/* Safetensors reader.  The file is untrusted: every length, offset and
 * shape is checked before it is used, and the tensors must tile the data
 * area exactly (no overlaps, no holes), as the format requires.
 */
#include <inttypes.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "perc-error.h"
#include "perc-safetensors.h"

#define MAX_HEADER (100 * 1024 * 1024)

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

PercSafetensors *
perc_safetensors_parse (const char *name,
                        GBytes     *contents,
                        GError    **error)
{
  PercSafetensors *st;
  JsonParser      *parser;
  const guint8    *bytes;
  gsize            size;
  guint64          header_size = 0;
  GError          *json_error = NULL;
  gboolean         ok;

  st = g_new0 (PercSafetensors, 1);
  st->path = g_strdup (name);
  st->contents = g_bytes_ref (contents);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->names = g_string_chunk_new (256);

  bytes = g_bytes_get_data (contents, &size);
  if (size < 8)
    {
      fail (error, name,
            _("not a valid safetensors file: the file is only %zu bytes long"),
            size);
      goto error;
    }
  for (int i = 7; i >= 0; i--)
    header_size = (header_size << 8) | bytes[i];
  if (header_size < 2 || header_size > MAX_HEADER || header_size > size - 8)
    {
      fail (error, name,
            _("not a valid safetensors file: header length %" PRIu64 " does "
              "not fit a file of %zu bytes"), header_size, size);
      goto error;
    }
  if (!g_utf8_validate ((const char *) bytes + 8, header_size, NULL))
    {
      fail (error, name,
            _("not a valid safetensors file: the header is not UTF-8 text"));
      goto error;
    }

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
  ok = parse_header (st, json_node_get_object (json_parser_get_root (parser)),
                     bytes + 8 + header_size, size - 8 - header_size, error);
  g_object_unref (parser);
  if (ok)
    return st;

error:
  perc_safetensors_free (st);
  return NULL;
}

PercSafetensors *
perc_safetensors_load (const char *path,
                       GError    **error)
{
  PercSafetensors *st;
  GBytes          *bytes;
  GError          *file_error = NULL;
  char            *data;
  gsize            size;

  /* Read, not mapped: a file truncated while mapped would raise SIGBUS. */
  if (!g_file_get_contents (path, &data, &size, &file_error))
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_FILE, "%s", file_error->message);
      g_error_free (file_error);
      return NULL;
    }
  bytes = g_bytes_new_take (data, size);
  st = perc_safetensors_parse (path, bytes, error);
  g_bytes_unref (bytes);
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
