/* gegl-perceptual compare: one pair, or many from a list or two folders.
 * Images are read and written through GEGL; the comparison is the ops'
 * own code (perceptual_compare ()), with their model cache.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gegl.h>
#include <gegl-plugin.h>

#include "cli.h"
#include "gegl/perceptual-colormaps.h"
#include "gegl/perceptual-compare.h"
#include "model/perc-net.h"
#include "gegl/perceptual-models.h"

typedef struct
{
  PerceptualChoice       choice;
  char                  *heatmap;      /* file, or with many pairs a folder */
  char                  *map;          /* likewise */
  char                  *colormap;
  double                 opacity;
  gboolean               auto_range;
  gboolean               legend;
  gboolean               layers;
  gboolean               json;
  gboolean               csv;
  char                  *pairs;
  int                    threads;      /* computing each distance */
} Options;

/* Writes `buffer` to `path` with GEGL's saver for the file name's
 * extension, atomically: into a temporary file in the same folder, renamed
 * into place once GEGL has written it without complaint, so that a failed
 * write leaves no partial file and no stale one is taken for the result.
 */
static gboolean
save (const char *path,
      GeglBuffer *buffer,
      char      **error)
{
  static const char *const savers[][2] = {
    { ".png", "gegl:png-save" }, { ".npy", "gegl:npy-save" },
    { ".tif", "gegl:tiff-save" }, { ".tiff", "gegl:tiff-save" },
    { ".exr", "gegl:exr-save" }, { ".hdr", "gegl:rgbe-save" },
    { ".jpg", "gegl:jpg-save" }, { ".jpeg", "gegl:jpg-save" },
    { ".webp", "gegl:webp-save" }, { ".ppm", "gegl:ppm-save" },
    { ".pgm", "gegl:ppm-save" },
  };
  const char *dot = strrchr (path, '.');
  char       *ext = g_ascii_strdown (dot && !strchr (dot, G_DIR_SEPARATOR) ? dot : "", -1);
  const char *saver_op = NULL;
  char       *dir, *base, *tmp;
  GString    *caught;
  GeglNode   *graph, *saver;
  GStatBuf    st;
  int         fd;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      *error = g_strdup_printf (_("%s is a folder: give a file name, e.g. %s/heatmap.png"),
                                path, path);
      g_free (ext);
      return FALSE;
    }
  /* GEGL would quietly write PNG data under any other name. */
  for (guint i = 0; i < G_N_ELEMENTS (savers); i++)
    if (!strcmp (ext, savers[i][0]) && gegl_has_operation (savers[i][1]))
      saver_op = savers[i][1];
  if (!saver_op)
    {
      *error = *ext ? g_strdup_printf (_("%s: GEGL cannot write “%s” files"), path, ext)
                    : g_strdup_printf (_("%s: the file name needs an extension that says "
                                         "the format, e.g. .png, .tiff or .npy"), path);
      g_free (ext);
      return FALSE;
    }
  g_free (ext);

  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  tmp = g_strdup_printf ("%s%c.%s.XXXXXX", dir, G_DIR_SEPARATOR, base);
  fd = g_mkstemp (tmp);
  if (fd < 0)
    {
      *error = g_strdup_printf (_("%s: cannot write in %s: %s"), path, dir, g_strerror (errno));
      g_free (tmp);
      g_free (base);
      g_free (dir);
      return FALSE;
    }
  /* The permissions a new file gets, not mkstemp's 0600. */
  {
    mode_t mask = umask (0);

    umask (mask);
    fchmod (fd, 0666 & ~mask);
  }
  close (fd);
  graph = gegl_node_new ();
  saver = gegl_node_new_child (graph, "operation", saver_op, "path", tmp, NULL);
  gegl_node_link (gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                       "buffer", buffer, NULL), saver);
  caught = cli_catch_begin ();
  gegl_node_process (saver);
  g_object_unref (graph);
  if (caught->len || g_stat (tmp, &st) != 0 || st.st_size == 0)
    *error = g_strdup_printf (_("%s: could not write the file%s%s"), path,
                              caught->len ? ": " : "", caught->str);
  else if (g_rename (tmp, path) != 0)
    *error = g_strdup_printf (_("%s: could not write the file: %s"), path, g_strerror (errno));
  if (*error)
    g_unlink (tmp);
  cli_catch_end (caught);
  g_free (tmp);
  g_free (base);
  g_free (dir);
  return *error == NULL;
}

typedef struct
{
  double      distance;
  double      terms[PERC_MAX_TAPS];
  int         n_layers;
  PercMetric  metric;
  char       *network;          /* the model's network's name */
  char       *error;
} Outcome;

static gboolean
show_progress (double   done,
               gpointer path)
{
  fprintf (stderr, "\r\033[K%s %3.0f %%", (const char *) path, 100 * done);
  return TRUE;
}

/* One pair of a batch; `error`, when set, is why it cannot be compared
 * (a bad line of a pair list).
 */
typedef struct
{
  char *ref, *dist, *error;
} Pair;

/* A pair's images, read; or why they could not be. */
typedef struct
{
  GeglBuffer *ref, *dist;
  char       *error;
} Loaded;

static void
load_pair (const Pair *p,
           Loaded     *l)
{
  GError *error = NULL;

  memset (l, 0, sizeof *l);
  if (p->error)
    l->error = g_strdup (p->error);
  else if (!(l->ref = cli_load (p->ref, &error)) || !(l->dist = cli_load (p->dist, &error)))
    {
      l->error = g_strdup (error->message);
      g_error_free (error);
      g_clear_object (&l->ref);
    }
}

/* Compares the pair p, read into `in` (whose images and error it takes). */
static void
compare_pair (const Options       *o,
              const Pair          *p,
              Loaded              *in,
              const char          *heatmap,
              const char          *map_path,
              PerceptualWorkspace *workspace,
              Outcome             *out)
{
  GeglBuffer      *ref = in->ref, *dist = in->dist, *map = NULL;
  const char      *ref_path = p->ref, *dist_path = p->dist;
  PerceptualResult r = { 0 };
  const Babl      *space;
  gboolean         tell;

  memset (out, 0, sizeof *out);
  out->distance = NAN;
  if ((out->error = in->error))
    goto done;
  if (gegl_buffer_get_width (ref) != gegl_buffer_get_width (dist) ||
      gegl_buffer_get_height (ref) != gegl_buffer_get_height (dist))
    {
      out->error = g_strdup_printf (_("the images differ in size: %s is %dx%d, %s is %dx%d"),
                                    ref_path, gegl_buffer_get_width (ref),
                                    gegl_buffer_get_height (ref), dist_path,
                                    gegl_buffer_get_width (dist),
                                    gegl_buffer_get_height (dist));
      goto done;
    }

  /* Both read in the reference's colour space, as the ops do; the map
   * goes to a GEGL buffer, which keeps a large one on disk.
   */
  space = babl_format_get_space (gegl_buffer_get_format (ref));
  if (map_path || heatmap)
    map = gegl_buffer_new (gegl_buffer_get_extent (ref), babl_format_with_space ("Y float", space));
  /* On a terminal, a large image says how far it has got. */
  tell = isatty (fileno (stderr)) &&
         (gint64) gegl_buffer_get_width (ref) * gegl_buffer_get_height (ref) >= 4 << 20;
  perceptual_compare (space, ref, dist, &o->choice,
                      map ? &(PerceptualMap) { map, -1, FALSE } : NULL, o->threads, workspace,
                      tell ? show_progress : NULL, (gpointer) dist_path, &r);
  if (tell)
    fprintf (stderr, "\r\033[K");
  if (!r.ok)
    {
      out->error = g_strdup (r.status);
      goto done;
    }
  if (map && !r.has_map)
    {
      out->error = g_strdup_printf (_("the %s distance compares whole layers: it has no "
                                      "map or heatmap"),
                                    perc_distance_kind_name (r.metric.kind));
      goto done;
    }
  out->distance = r.distance.distance;
  out->metric = r.metric;
  out->network = g_strdup (r.model->net->name);
  out->n_layers = r.distance.n_layers;
  memcpy (out->terms, r.distance.terms, sizeof (double) * out->n_layers);

  if (map_path)
    save (map_path, map, &out->error);
  if (heatmap && !out->error)
    {
      const Babl *format = babl_format_with_space ("R'G'B'A float", space);
      GeglBuffer *heat = gegl_buffer_new (&r.area, format);
      double      hi = perceptual_paint_heatmap (ref, map, &r.area, o->colormap, o->auto_range,
                                                 0, PERCEPTUAL_SCALE_MAX, o->opacity, heat,
                                                 format);

      if (o->legend)
        {
          GeglBuffer *with = cli_add_legend (heat, o->colormap, 0, hi);

          g_object_unref (heat);
          heat = with;
        }
      save (heatmap, heat, &out->error);
      g_object_unref (heat);
    }

done:
  g_clear_object (&map);
  perceptual_result_clear (&r);
  g_clear_object (&ref);
  g_clear_object (&dist);
}

static void
print_json (const Options *o, const char *ref, const char *dist, const Outcome *out)
{
  char *r = cli_json_string (ref), *d = cli_json_string (dist);

  printf ("{\"reference\": %s, \"compared\": %s", r, d);
  if (!out->error)
    {
      char *layers = perc_layers_format (out->metric.layers);
      char *network = cli_json_string (out->network);

      printf (", \"network\": %s, \"calibration\": \"%s\", \"distance_function\": \"%s\", "
              "\"layer_subset\": [%s]", network, perc_calibration_name (out->metric.calibration),
              perc_distance_kind_name (out->metric.kind), layers);
      g_free (network);
      g_free (layers);
    }
  if (out->error)
    {
      char *e = cli_json_string (out->error);
      printf (", \"error\": %s}\n", e);
      g_free (e);
    }
  else
    {
      printf (", \"distance\": %.9g", out->distance);
      if (o->layers)
        {
          printf (", \"layers\": [");
          for (int l = 0; l < out->n_layers; l++)
            printf (l ? ", %.9g" : "%.9g", out->terms[l]);
          printf ("]");
        }
      printf ("}\n");
    }
  g_free (r);
  g_free (d);
}

/* RFC 4180: quote fields with commas, quotes or line breaks. */
static void
print_csv_field (const char *s)
{
  if (!strpbrk (s, ",\"\r\n"))
    {
      fputs (s, stdout);
      return;
    }
  putchar ('"');
  for (; *s; s++)
    {
      if (*s == '"')
        putchar ('"');
      putchar (*s);
    }
  putchar ('"');
}

/* A row has the header's fields, whatever happened: n_taps layer columns
 * (0 without --layers).
 */
static void
print_csv (const Options *o, const char *ref, const char *dist, const Outcome *out,
           guint n_taps)
{
  print_csv_field (ref);
  putchar (',');
  print_csv_field (dist);
  if (out->error)
    {
      printf (",,");
      print_csv_field (out->error);
      for (guint l = 0; l < n_taps; l++)
        putchar (',');
    }
  else
    {
      printf (",%.9g,", out->distance);
      for (guint l = 0; l < n_taps; l++)
        if ((int) l < out->n_layers)
          printf (",%.9g", out->terms[l]);
        else
          putchar (',');
    }
  putchar ('\n');
}

static void
pair_clear (gpointer data)
{
  Pair *p = data;

  g_free (p->ref);
  g_free (p->dist);
  g_free (p->error);
}

static GArray *
pairs_new (void)
{
  GArray *pairs = g_array_new (FALSE, TRUE, sizeof (Pair));

  g_array_set_clear_func (pairs, pair_clear);
  return pairs;
}

/* A pair list: "REF<TAB>DIST" (or separated by spaces when a line has no
 * tab) per line; blank lines and lines starting with # are skipped;
 * relative paths are relative to the list's folder.  A line that is not
 * two names is a pair that fails, with the line's number; the batch goes
 * on.
 */
static GArray *
read_pairs (const char *list, char **error)
{
  char      *text, *dir, *start;
  char     **lines;
  GArray    *pairs;
  GError    *file_error = NULL;
  gsize      length;

  if (g_file_test (list, G_FILE_TEST_IS_DIR))
    {
      *error = g_strdup_printf (_("%s is a folder, not a list of pairs"), list);
      return NULL;
    }
  if (!g_file_get_contents (list, &text, &length, &file_error))
    {
      *error = g_strdup (file_error->message);
      g_error_free (file_error);
      return NULL;
    }
  if (!g_utf8_validate (text, length, NULL) || strlen (text) != length)
    {
      *error = g_strdup_printf (_("%s is not a text file (UTF-8) of pairs"), list);
      g_free (text);
      return NULL;
    }
  /* A byte order mark is no part of the first name. */
  start = g_str_has_prefix (text, "\xef\xbb\xbf") ? text + 3 : text;
  pairs = pairs_new ();
  dir = g_path_get_dirname (list);
  lines = g_strsplit (start, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      char  *line = g_strstrip (lines[i]);
      char **parts;
      Pair   pair = { 0 };

      if (!*line || *line == '#')
        continue;
      parts = strchr (line, '\t') ? g_strsplit (line, "\t", -1)
                                  : g_regex_split_simple ("\\s+", line, 0, 0);
      if (g_strv_length (parts) != 2)
        {
          pair.ref = g_strdup (line);
          pair.dist = g_strdup ("");
          pair.error = g_strdup_printf (_("%s, line %d: expected two file names, found %u"),
                                        list, i + 1, g_strv_length (parts));
        }
      else
        {
          char *r = g_strstrip (parts[0]), *d = g_strstrip (parts[1]);

          pair.ref = g_path_is_absolute (r) ? g_strdup (r) : g_build_filename (dir, r, NULL);
          pair.dist = g_path_is_absolute (d) ? g_strdup (d) : g_build_filename (dir, d, NULL);
        }
      g_array_append_val (pairs, pair);
      g_strfreev (parts);
    }
  g_strfreev (lines);
  g_free (dir);
  g_free (text);
  return pairs;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char **) a, *(char **) b);
}

/* Files of dir1 paired with the files of the same name in dir2; a name in
 * only one of them becomes a pair with an empty side, reported later.
 */
static GArray *
match_folders (const char *dir1, const char *dir2, char **error)
{
  GPtrArray  *names = g_ptr_array_new_with_free_func (g_free);
  GArray     *pairs = pairs_new ();
  const char *dirs[2] = { dir1, dir2 };

  for (int k = 0; k < 2; k++)
    {
      GError     *dir_error = NULL;
      GDir       *d = g_dir_open (dirs[k], 0, &dir_error);
      const char *name;

      if (!d)
        {
          *error = g_strdup (dir_error->message);
          g_error_free (dir_error);
          g_ptr_array_unref (names);
          g_array_unref (pairs);
          return NULL;
        }
      while ((name = g_dir_read_name (d)))
        {
          char    *p = g_build_filename (dirs[k], name, NULL);
          gboolean seen = FALSE;

          if (g_file_test (p, G_FILE_TEST_IS_REGULAR) && *name != '.')
            {
              for (guint i = 0; i < names->len; i++)
                seen |= !strcmp (g_ptr_array_index (names, i), name);
              if (!seen)
                g_ptr_array_add (names, g_strdup (name));
            }
          g_free (p);
        }
      g_dir_close (d);
    }
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      Pair pair = { g_build_filename (dir1, g_ptr_array_index (names, i), NULL),
                    g_build_filename (dir2, g_ptr_array_index (names, i), NULL), NULL };

      g_array_append_val (pairs, pair);
    }
  g_ptr_array_unref (names);
  return pairs;
}

/* Output file for one pair of a batch: FOLDER/<compared's name>.EXT */
static char *
batch_output (const char *folder, const char *compared, const char *ext)
{
  char *base, *dot, *name, *path;

  if (!folder)
    return NULL;
  base = g_path_get_basename (compared);
  if ((dot = strrchr (base, '.')))
    *dot = '\0';
  name = g_strconcat (base, ext, NULL);
  path = g_build_filename (folder, name, NULL);
  g_free (name);
  g_free (base);
  return path;
}

/* Whether a and b name the same existing file. */
static gboolean
same_file (const char *a,
           const char *b)
{
  GStatBuf sa, sb;

  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Refuses outputs that would replace an input, or each other: outputs[i]
 * is made from the pair inputs[i & ~1], inputs[i | 1] (a NULL output is
 * none).
 */
static gboolean
check_outputs (const char *const *outputs,
               const char *const *inputs,
               guint               n,
               char              **error)
{
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  const char *other;

  for (guint i = 0; i < n && !*error; i++)
    {
      if (!outputs[i])
        continue;
      for (guint k = 0; k < n && !*error; k++)
        if (!strcmp (outputs[i], inputs[k]) || same_file (outputs[i], inputs[k]))
          *error = g_strdup_printf (_("%s would replace the input image %s: give the "
                                      "output another name or folder"),
                                    outputs[i], inputs[k]);
      if (!*error && (other = g_hash_table_lookup (seen, outputs[i])))
        *error = g_strdup_printf (_("%s and %s would both write %s: give the compared "
                                    "images distinct names"),
                                  other, inputs[i | 1], outputs[i]);
      g_hash_table_insert (seen, (gpointer) outputs[i], (gpointer) inputs[i | 1]);
    }
  g_hash_table_unref (seen);
  return *error == NULL;
}

/* The reading runs a pair ahead of the comparing, in a thread of its own,
 * so that decoding the next pair's files overlaps the network's work on
 * this one; no further, to hold two pairs' images at most.
 */
typedef struct
{
  GArray      *pairs;
  Loaded      *loaded;    /* one per pair */
  GAsyncQueue *ready;     /* pairs read, in order */
  GAsyncQueue *room;      /* one token for each pair it may read */
} Reader;

static gpointer
read_ahead (gpointer data)
{
  Reader *r = data;

  for (guint i = 0; i < r->pairs->len; i++)
    {
      g_async_queue_pop (r->room);
      load_pair (&g_array_index (r->pairs, Pair, i), &r->loaded[i]);
      g_async_queue_push (r->ready, &r->loaded[i]);
    }
  return NULL;
}

static int
run_batch (const Options *o, GArray *pairs)
{
  guint            n = pairs->len, failed = 0, n_taps = 0;
  gboolean         progress = isatty (fileno (stderr));
  char           **heat = g_new0 (char *, n + 1), **maps = g_new0 (char *, n + 1);
  const char     **outputs = g_new0 (const char *, 2 * n), **inputs = g_new0 (const char *, 2 * n);
  char            *error = NULL;
  int              status = 0;
  /* The network's memory is kept from pair to pair: allocating it anew
   * cost as much as the network at 512 x 512, in page faults.
   */
  PerceptualWorkspace workspace = { 0 };
  Reader              reader = { pairs, g_new0 (Loaded, n), g_async_queue_new (),
                                 g_async_queue_new () };
  GThread            *reading = NULL;

  /* Every output named first: none may replace an input or another. */
  for (guint i = 0; i < n; i++)
    {
      Pair *p = &g_array_index (pairs, Pair, i);

      heat[i] = p->error ? NULL : batch_output (o->heatmap, p->dist, ".png");
      maps[i] = p->error ? NULL : batch_output (o->map, p->dist, ".npy");
      outputs[2 * i] = heat[i];
      outputs[2 * i + 1] = maps[i];
      inputs[2 * i] = p->ref;
      inputs[2 * i + 1] = p->dist;
    }
  if (!check_outputs (outputs, inputs, 2 * n, &error))
    {
      cli_error ("%s", error);
      status = 2;
      goto out;
    }
  for (const char *dir = o->heatmap; dir; dir = dir == o->heatmap ? o->map : NULL)
    if (g_mkdir_with_parents (dir, 0755) != 0 || !g_file_test (dir, G_FILE_TEST_IS_DIR))
      {
        cli_error (_("%s: cannot create the folder"), dir);
        status = 1;
        goto out;
      }
  if (o->csv)
    {
      PercMetric       metric;
      const PercModel *model = perceptual_models_get (&o->choice, &metric, NULL);

      n_taps = o->layers && model ? model->net->n_taps : 0;
      perceptual_models_release (model);
      printf ("reference,compared,distance,error");
      for (guint l = 0; l < n_taps; l++)
        printf (",layer_%u", l + 1);
      putchar ('\n');
    }
  for (int ahead = 0; ahead < 2; ahead++)
    g_async_queue_push (reader.room, &reader);
  reading = g_thread_new ("perceptual-read", read_ahead, &reader);
  for (guint i = 0; i < n; i++)
    {
      Pair   *p = &g_array_index (pairs, Pair, i);
      Loaded *in = g_async_queue_pop (reader.ready);
      Outcome out;

      if (progress)
        fprintf (stderr, "\r\033[K%u/%u %s", i + 1, n, p->dist);
      compare_pair (o, p, in, heat[i], maps[i], &workspace, &out);
      g_async_queue_push (reader.room, &reader);
      if (out.error)
        {
          failed++;
          if (progress)
            fputc ('\n', stderr);
          cli_error ("%s", out.error);
        }
      if (o->csv)
        print_csv (o, p->ref, p->dist, &out, n_taps);
      else
        print_json (o, p->ref, p->dist, &out);
      fflush (stdout);
      g_free (out.error);
      g_free (out.network);
    }
  if (progress)
    fprintf (stderr, "\r\033[K");
  fprintf (stderr, _("%u pairs compared, %u failed\n"), n - failed, failed);
  status = failed ? 1 : 0;

out:
  if (reading)
    g_thread_join (reading);
  g_async_queue_unref (reader.ready);
  g_async_queue_unref (reader.room);
  g_free (reader.loaded);
  perceptual_workspace_clear (&workspace);
  g_strfreev (heat);
  g_strfreev (maps);
  g_free (outputs);
  g_free (inputs);
  g_free (error);
  return status;
}

int
cli_compare (int argc, char **argv)
{
  Options         o = { .colormap = NULL, .opacity = 0.8 };
  CliModelArgs    model = { 0 };
  char           *error = NULL;
  GOptionContext *ctx;
  GError         *opt_error = NULL;
  int             status = 1;
  GOptionEntry    entries[] = {
    { "heatmap", 0, 0, G_OPTION_ARG_FILENAME, &o.heatmap, N_("write a heatmap image (with many pairs: a folder)"), "OUT.png" },
    { "map", 0, 0, G_OPTION_ARG_FILENAME, &o.map, N_("write the distance map, e.g. .npy or .tiff (with many pairs: a folder of .npy)"), "OUT" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &o.colormap, N_("the heatmap's colour map: magma (default), inferno, viridis, turbo, gray"), "NAME" },
    { "opacity", 0, 0, G_OPTION_ARG_DOUBLE, &o.opacity, N_("the heatmap's opacity over the reference at the top of its scale (default 0.8); smaller distances cover it less"), "0..1" },
    { "legend", 0, 0, G_OPTION_ARG_NONE, &o.legend, N_("add a legend below the heatmap: its colour bar and the distances it spans"), NULL },
    { "auto-range", 0, 0, G_OPTION_ARG_NONE, &o.auto_range, N_("stretch the heatmap's colours from 0 to this map's largest distance, instead of the fixed scale from 0 to 0.5"), NULL },
    { "layers", 'l', 0, G_OPTION_ARG_NONE, &o.layers, N_("also print each layer's term"), NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &o.json, N_("print JSON"), NULL },
    { "csv", 0, 0, G_OPTION_ARG_NONE, &o.csv, N_("with many pairs: CSV rows instead of JSON lines"), NULL },
    { "pairs", 'p', 0, G_OPTION_ARG_FILENAME, &o.pairs, N_("compare the pairs listed in LIST (REF and DIST on each line)"), "LIST" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, N_("threads computing each distance (default: BLIS_NUM_THREADS, OMP_NUM_THREADS or one per core)"), "N" },
    { NULL }
  };

  ctx = g_option_context_new (_("REF DIST | --pairs LIST | DIR1 DIR2"));
  g_option_context_set_summary (ctx, _("The perceptual distance (LPIPS) of DIST from the reference REF:\n"
                                       "0 for images that look the same, larger the more they differ."));
  cli_model_add_entries (ctx, &model);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (ctx, &argc, &argv, &opt_error))
    {
      cli_error ("%s", opt_error->message);
      g_error_free (opt_error);
      g_option_context_free (ctx);
      cli_model_args_clear (&model);
      return 2;
    }
  g_option_context_free (ctx);
  if (argc != (o.pairs ? 1 : 3))
    {
      cli_error (_("give two images (or two folders), or --pairs LIST; see --help"));
      cli_model_args_clear (&model);
      return 2;
    }

  gegl_init (NULL, NULL);
  /* The ops warn about what users must fix; here every error is reported
   * once, with the pair it belongs to.
   */
  perceptual_set_warnings (FALSE);
  /* Wrong usage: status 2. */
  status = 2;
  if (!cli_model_choice (&model, &o.choice))
    goto out;
  if (!o.colormap)
    o.colormap = g_strdup ("magma");
  if (!perceptual_colormap_lookup (o.colormap, 0, (float[3]) { 0 }))
    {
      cli_error (_("unknown colour map \"%s\" (choose from magma, inferno, viridis, turbo, gray)"),
                 o.colormap);
      goto out;
    }
  if (!(o.opacity >= 0.0 && o.opacity <= 1.0))
    {
      cli_error (_("--opacity takes a number from 0 to 1, not %g"), o.opacity);
      goto out;
    }
  if (o.threads < 0 || o.threads > PERC_MAX_THREADS)
    {
      cli_error (_("--threads takes 1 to %d, not %d"), PERC_MAX_THREADS, o.threads);
      goto out;
    }
  if (!o.threads)
    o.threads = MIN (cli_threads (), PERC_MAX_THREADS);

  if (o.pairs || g_file_test (argv[1], G_FILE_TEST_IS_DIR))
    {
      GArray *pairs = o.pairs ? read_pairs (o.pairs, &error)
                              : match_folders (argv[1], argv[2], &error);

      status = 1;
      if (pairs)
        {
          status = run_batch (&o, pairs);
          g_array_unref (pairs);
        }
      else
        cli_error ("%s", error);
    }
  else
    {
      const char *outputs[4] = { o.heatmap, NULL, o.map, NULL };
      const char *inputs[4] = { argv[1], argv[2], argv[1], argv[2] };
      Pair        pair = { argv[1], argv[2], NULL };
      Loaded      in;
      Outcome     out;

      if (!check_outputs (outputs, inputs, 4, &error))
        {
          cli_error ("%s", error);
          goto out;
        }
      load_pair (&pair, &in);
      compare_pair (&o, &pair, &in, o.heatmap, o.map, NULL, &out);
      if (out.error)
        cli_error ("%s", out.error);
      else if (o.json)
        print_json (&o, argv[1], argv[2], &out);
      else
        {
          printf ("%.8f\n", out.distance);
          for (int l = 0; o.layers && l < out.n_layers; l++)
            printf (_("layer %d: %.8f\n"), l + 1, out.terms[l]);
        }
      status = out.error ? 1 : 0;
      g_free (out.error);
      g_free (out.network);
    }

out:
  g_free (error);
  cli_model_args_clear (&model);
  g_free (o.heatmap);
  g_free (o.map);
  g_free (o.colormap);
  g_free (o.pairs);
  gegl_exit ();
  return status;
}
