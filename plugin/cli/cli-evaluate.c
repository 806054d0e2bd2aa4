/* gegl-perceptual 2afc DIR / jnd DIR: how well a distance agrees with
 * people's judgements on a BAPPS-layout data set.
 *
 *   2afc/val/<category>/{ref,p0,p1}/NNNNNN.png  and  .../judge/NNNNNN.npy
 *   jnd/val/<category>/{p0,p1}/NNNNNN.png       and  .../same/NNNNNN.npy
 *
 * Files pair up by name (without extension): ref/000001.png goes with
 * p0/000001.png, p1/000001.png and judge/000001.npy; a file without its
 * counterparts is an error.  Images are read through GEGL in the main
 * thread, a batch at a time; the batch's distances are computed by one
 * thread per core, each with an extractor per image of an item, which go
 * through the network in lockstep (the products run BLIS's micro-kernel
 * in the calling thread).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <gegl.h>

#include "cli.h"
#include "distance/perc-distance.h"

#define BATCH 96

/* Items a thread runs side by side (so that small layers' products span
 * their images, perc-features.h), at most: GROUP, and about as many
 * pixels as GROUP of BAPPS's 64 x 64 triplets, which bounds their memory.
 * Larger groups read each layer's weights fewer times but hold more
 * items' features: in two threads, groups of 8 triplets against 16 made
 * SqueezeNet 10-15 % faster, AlexNet 3 %, VGG-16 2-7 % slower.
 */
#define GROUP        8
#define GROUP_PIXELS (GROUP * 3 * 64 * 64)

static const char *const known_categories[] = {
  "traditional", "cnn", "superres", "deblur", "color", "frameinterp"
};

typedef struct
{
  const char  *name;             /* "2afc" or "jnd" */
  int          n_images;         /* per item: ref p0 p1, or p0 p1 */
  const char  *folders[3];
  const char  *labels;           /* the judgements' folder */
} Test;

static const Test tests[] = {
  { "2afc", 3, { "ref", "p0", "p1" }, "judge" },
  { "jnd",  2, { "p0", "p1", NULL }, "same" },
};

typedef struct
{
  char    *name;
  GPtrArray *files[4];           /* image folders, then the labels */
  gsize    n;
  double  *labels;
  /* Per item: the distance of each compared image (1 for jnd, 2 for 2afc)
   * and every layer's term.
   */
  double  *distance[2];
  double  *terms[2][PERC_MAX_TAPS];
  double   score;
  double   layer_score[PERC_MAX_TAPS];
} Category;

typedef struct
{
  const PercModel *model;
  const PercMetric *metric;
  const Test      *test;
  int              n_threads;
  /* The batch: items [first, first + count) of `category`. */
  Category        *category;
  gsize            first, count;
  PercImage       *images;       /* count * n_images */
  int              group;        /* items a worker runs side by side */
  double           reading;      /* seconds spent reading images so far */
  double           computing;    /* and computing their distances */
  char            *error;
  gint             failed;       /* atomic: a worker's error is in `error` */
  GMutex           lock;
} Run;

typedef struct
{
  Run            *run;
  int             index;
  PercExtractor  *extractors[GROUP * 3];  /* one per image of a group's items */
  PercFeatures   *features[GROUP * 3];
  PercDistance    distance;
} Worker;

/* The regular files in dir/sub by name without extension: name -> path.
 * Two files of one name (000001.png and 000001.jpg) are an error.
 */
static GHashTable *
list_files (const char *dir,
            const char *sub,
            char      **error)
{
  char       *path = g_build_filename (dir, sub, NULL);
  GDir       *d = g_dir_open (path, 0, NULL);
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *name;

  while (d && !*error && (name = g_dir_read_name (d)))
    {
      char *file = g_build_filename (path, name, NULL);
      char *stem = g_strdup (name), *dot = strrchr (stem, '.');

      if (dot && dot != stem)
        *dot = '\0';
      if (name[0] == '.' || !g_file_test (file, G_FILE_TEST_IS_REGULAR))
        {
          g_free (file);
          g_free (stem);
        }
      else if (g_hash_table_contains (files, stem))
        {
          *error = g_strdup_printf (_("%s and %s have the same name: which one is "
                                      "meant?"), (char *) g_hash_table_lookup (files, stem),
                                    file);
          g_free (file);
          g_free (stem);
        }
      else
        g_hash_table_insert (files, stem, file);
    }
  if (d)
    g_dir_close (d);
  g_free (path);
  return files;
}

/* 1 if dir has every folder of a category, 0 if none, -1 (with *error
 * naming what is missing) if only some.
 */
static int
is_category (const Test *test,
             const char *dir,
             char      **error)
{
  GString *missing = g_string_new (NULL);
  int      found = 0;

  for (int k = 0; k <= test->n_images; k++)
    {
      const char *name = k < test->n_images ? test->folders[k] : test->labels;
      char       *sub = g_build_filename (dir, name, NULL);

      if (g_file_test (sub, G_FILE_TEST_IS_DIR))
        found++;
      else
        g_string_append_printf (missing, "%s%s/", missing->len ? ", " : "", name);
      g_free (sub);
    }
  if (found && found <= test->n_images && !*error)
    *error = g_strdup_printf (_("%s has no %s: every %s category has %s"), dir,
                              missing->str, test->name,
                              test->n_images == 3 ? "ref/, p0/, p1/, judge/" : "p0/, p1/, same/");
  g_string_free (missing, TRUE);
  return !found ? 0 : found > test->n_images ? 1 : -1;
}

static int
category_rank (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_categories); i++)
    if (!strcmp (name, known_categories[i]))
      return i;
  return G_N_ELEMENTS (known_categories);
}

static gint
compare_categories (gconstpointer a,
                    gconstpointer b)
{
  const char *x = *(char *const *) a, *y = *(char *const *) b;
  int         rx = category_rank (x), ry = category_rank (y);

  return rx != ry ? rx - ry : strcmp (x, y);
}

/* The folder holding the categories: DIR/<test>/val, DIR/val or DIR. */
static char *
find_root (const Test *test,
           const char *dir,
           GPtrArray **names,
           char      **error)
{
  char *candidates[] = {
    g_build_filename (dir, test->name, "val", NULL),
    g_build_filename (dir, "val", NULL),
    g_strdup (dir),
  };
  char *root = NULL;

  *names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; !root && i < G_N_ELEMENTS (candidates); i++)
    {
      GDir       *d = g_dir_open (candidates[i], 0, NULL);
      const char *name;

      while (d && (name = g_dir_read_name (d)))
        {
          char *sub = g_build_filename (candidates[i], name, NULL);

          if (is_category (test, sub, error) != 0)
            g_ptr_array_add (*names, g_strdup (name));
          g_free (sub);
        }
      if (d)
        g_dir_close (d);
      if ((*names)->len)
        root = g_strdup (candidates[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    g_free (candidates[i]);
  g_ptr_array_sort (*names, compare_categories);
  if (*error)
    g_clear_pointer (&root, g_free);
  return root;
}

static void
category_free (Category *c)
{
  g_free (c->name);
  for (int k = 0; k < 4; k++)
    if (c->files[k])
      g_ptr_array_unref (c->files[k]);
  g_free (c->labels);
  for (int j = 0; j < 2; j++)
    {
      g_free (c->distance[j]);
      for (int l = 0; l < PERC_MAX_TAPS; l++)
        g_free (c->terms[j][l]);
    }
  g_free (c);
}

/* Lists a category's files and reads its judgements. */
static Category *
category_open (const Test *test,
               const char *root,
               const char *name,
               char      **error)
{
  Category *c = g_new0 (Category, 1);
  char     *dir = g_build_filename (root, name, NULL);

  c->name = g_strdup (name);
  {
    GHashTable *lists[4] = { NULL };
    GList      *stems;

    for (int k = 0; k <= test->n_images && !*error; k++)
      lists[k] = list_files (dir, k < test->n_images ? test->folders[k] : test->labels, error);
    /* Every name of any folder must be in all of them. */
    for (int k = 0; k <= test->n_images && !*error; k++)
      {
        GHashTableIter it;
        gpointer       stem, file;

        g_hash_table_iter_init (&it, lists[k]);
        while (!*error && g_hash_table_iter_next (&it, &stem, &file))
          for (int j = 0; j <= test->n_images && !*error; j++)
            if (!g_hash_table_contains (lists[j], stem))
              *error = g_strdup_printf (_("%s has no counterpart in %s/%s (files pair "
                                          "up by name)"), (char *) file, dir,
                                        j < test->n_images ? test->folders[j] : test->labels);
      }
    if (!*error)
      {
        stems = g_list_sort (g_hash_table_get_keys (lists[0]), (GCompareFunc) strcmp);
        for (int k = 0; k <= test->n_images; k++)
          {
            c->files[k] = g_ptr_array_new_with_free_func (g_free);
            for (GList *l = stems; l; l = l->next)
              g_ptr_array_add (c->files[k], g_strdup (g_hash_table_lookup (lists[k], l->data)));
          }
        g_list_free (stems);
        c->n = c->files[0]->len;
      }
    for (int k = 0; k <= test->n_images; k++)
      if (lists[k])
        g_hash_table_unref (lists[k]);
  }
  if (!*error && !c->n)
    *error = g_strdup_printf (_("%s: no files"), dir);
  c->labels = g_new (double, c->n);
  for (gsize i = 0; i < c->n && !*error; i++)
    {
      const char *path = g_ptr_array_index (c->files[test->n_images], i);

      GError *npy_error = NULL;

      if (!cli_read_npy_number (path, &c->labels[i], &npy_error))
        {
          *error = g_strdup (npy_error->message);
          g_error_free (npy_error);
        }
      else if (!(c->labels[i] >= 0.0 && c->labels[i] <= 1.0))
        *error = g_strdup_printf (_("%s: a judgement is a fraction of people, "
                                    "from 0 to 1, not %g"), path, c->labels[i]);
    }
  for (int j = 0; j < test->n_images - 1; j++)
    {
      c->distance[j] = g_new0 (double, c->n);
      for (int l = 0; l < PERC_MAX_TAPS; l++)
        c->terms[j][l] = g_new0 (double, c->n);
    }
  g_free (dir);
  if (*error)
    {
      category_free (c);
      return NULL;
    }
  return c;
}

/* Reads the image at `path` as R'G'B' float into image (owning rgb). */
static gboolean
load_image (const char *path,
            PercImage  *image,
            GError    **error)
{
  GeglBuffer *buffer = cli_load (path, error);
  const Babl *space;
  float      *rgb;

  if (!buffer)
    return FALSE;
  space = babl_format_get_space (gegl_buffer_get_format (buffer));
  image->width = gegl_buffer_get_width (buffer);
  image->height = gegl_buffer_get_height (buffer);
  image->rowstride = 3 * (gsize) image->width;
  rgb = g_new (float, image->rowstride * image->height);
  gegl_buffer_get (buffer, gegl_buffer_get_extent (buffer), 1.0,
                   babl_format_with_space ("R'G'B' float", space), rgb,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  image->rgb = rgb;
  g_object_unref (buffer);
  return TRUE;
}

static void
fail (Run        *run,
      const char *path,
      GError     *error)
{
  g_mutex_lock (&run->lock);
  if (!run->error)
    run->error = g_strdup_printf ("%s: %s", path, error->message);
  g_atomic_int_set (&run->failed, 1);
  g_mutex_unlock (&run->lock);
  g_error_free (error);
}

/* Every n_threads-th group of items of the batch, from `index`. */
static gpointer
work (gpointer data)
{
  Worker          *w = data;
  Run             *run = w->run;
  Category        *c = run->category;
  int              n = run->test->n_images;
  gboolean         scaling = perc_calibration_scales (run->metric->calibration);
  gsize            step = (gsize) run->n_threads * run->group;

  for (gsize i0 = (gsize) w->index * run->group; i0 < run->count &&
       !g_atomic_int_get (&run->failed); i0 += step)
    {
      int        m = (int) MIN ((gsize) run->group, run->count - i0);
      PercImage *images = run->images + i0 * n;
      GError    *error = NULL;

      for (int k = 0; k < m * n; k++)
        if (!perc_features_check_input (run->model, &images[k], &error))
          {
            fail (run, g_ptr_array_index (c->files[k % n], run->first + i0 + k / n), error);
            return NULL;
          }
      /* The items' images in lockstep: each op's weights read once. */
      if (!perc_extractor_run_batch (w->extractors, images, m * n, scaling, w->features,
                                     &error))
        {
          fail (run, g_ptr_array_index (c->files[0], run->first + i0), error);
          break;
        }
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n - 1; j++)
          {
            gsize         item = run->first + i0 + i;
            PercFeatures *const *f = w->features + i * n;

            if (!perc_distance_compute (run->model, run->metric, f[0], f[j + 1],
                                        &w->distance, &error))
              {
                fail (run, g_ptr_array_index (c->files[j + 1], item), error);
                return NULL;
              }
            c->distance[j][item] = w->distance.distance;
            for (int l = 0; l < w->distance.n_layers; l++)
              c->terms[j][l][item] = w->distance.terms[l];
          }
    }
  return NULL;
}

/* Reads a batch of items and computes their distances. */
static gboolean
run_batch (Run     *run,
           Worker  *workers,
           gsize    first,
           gsize    count)
{
  Category *c = run->category;
  int       n = run->test->n_images;
  GThread  *threads[64];
  gboolean  ok = TRUE;
  gint64    start = g_get_monotonic_time ();

  run->first = first;
  run->count = count;
  memset (run->images, 0, sizeof (PercImage) * n * count);
  for (gsize i = 0; ok && i < count; i++)
    for (int k = 0; ok && k < n; k++)
      {
        const char *path = g_ptr_array_index (c->files[k], first + i);
        PercImage  *image = &run->images[i * n + k];

        {
          GError *error = NULL;

          ok = load_image (path, image, &error);
          if (!ok)
            {
              run->error = g_strdup (error->message);
              g_error_free (error);
            }
        }
        if (ok && k > 0 && (image->width != image[-k].width ||
                            image->height != image[-k].height))
          {
            run->error = g_strdup_printf (_("%s is %dx%d pixels, but %s is %dx%d"),
                                          path, image->width, image->height,
                                          (char *) g_ptr_array_index (c->files[0], first + i),
                                          image[-k].width, image[-k].height);
            ok = FALSE;
          }
      }
  run->reading += (g_get_monotonic_time () - start) / 1e6;
  if (ok)
    {
      gsize pixels = 1;

      for (gsize i = 0; i < n * count; i++)
        pixels = MAX (pixels, (gsize) run->images[i].width * run->images[i].height);
      /* Groups small enough for every thread to have one. */
      run->group = (int) CLAMP (GROUP_PIXELS / (n * pixels), 1, GROUP);
      run->group = (int) MIN ((gsize) run->group, MAX (count / run->n_threads, 1));
      start = g_get_monotonic_time ();
      for (int t = 1; t < run->n_threads; t++)
        threads[t] = g_thread_new ("perceptual-evaluate", work, &workers[t]);
      work (&workers[0]);
      for (int t = 1; t < run->n_threads; t++)
        g_thread_join (threads[t]);
      ok = !run->error;
      run->computing += (g_get_monotonic_time () - start) / 1e6;
    }
  for (gsize i = 0; i < n * count; i++)
    g_free ((float *) run->images[i].rgb);
  return ok;
}

static void
score (const Test *test,
       Category   *c,
       int         n_layers)
{
  if (test->n_images == 3)
    {
      c->score = cli_score_2afc (c->distance[0], c->distance[1], c->labels, c->n);
      for (int l = 0; l < n_layers; l++)
        c->layer_score[l] = cli_score_2afc (c->terms[0][l], c->terms[1][l],
                                            c->labels, c->n);
    }
  else
    {
      c->score = cli_score_jnd (c->distance[0], c->labels, c->n);
      for (int l = 0; l < n_layers; l++)
        c->layer_score[l] = cli_score_jnd (c->terms[0][l], c->labels, c->n);
    }
}

static void
print_text (const Test       *test,
            const PercModel  *model,
            const PercMetric *metric,
            GPtrArray        *categories,
            gboolean          per_layer,
            const double     *mean,
            const double     *layer_mean)
{
  int   n_layers = model->net->n_taps;
  char *layers = perc_layers_format (metric->layers);
  char *heads[PERC_MAX_TAPS];
  int   widths[PERC_MAX_TAPS];

  printf (_("%s: %s, %s, %s distance, layers %s\n"),
          test->n_images == 3 ? _("2AFC score") : _("JND mAP"),
          model->net->name, perc_calibration_name (metric->calibration),
          perc_distance_kind_name (metric->kind), layers);
  /* Each layer's column as wide as its heading. */
  for (int l = 0; per_layer && l < n_layers; l++)
    {
      heads[l] = g_strdup_printf (_("layer %d"), l + 1);
      widths[l] = MAX (6, (int) g_utf8_strlen (heads[l], -1));
    }
  printf ("%-14s %8s %8s", _("category"), test->n_images == 3 ? _("triplets") : _("pairs"),
          _("score"));
  for (int l = 0; per_layer && l < n_layers; l++)
    printf ("  %*s", widths[l], heads[l]);
  putchar ('\n');
  for (guint i = 0; i < categories->len; i++)
    {
      Category *c = g_ptr_array_index (categories, i);

      printf ("%-14s %8lu %8.2f", c->name, (unsigned long) c->n, 100 * c->score);
      for (int l = 0; per_layer && l < n_layers; l++)
        printf ("  %*.2f", widths[l], 100 * c->layer_score[l]);
      putchar ('\n');
    }
  printf ("%-14s %8s %8.2f", _("mean"), "", 100 * *mean);
  for (int l = 0; per_layer && l < n_layers; l++)
    printf ("  %*.2f", widths[l], 100 * layer_mean[l]);
  putchar ('\n');
  for (int l = 0; per_layer && l < n_layers; l++)
    g_free (heads[l]);
  g_free (layers);
}

static void
print_json (const Test       *test,
            const PercModel  *model,
            const PercMetric *metric,
            GPtrArray        *categories,
            const double     *mean,
            const double     *layer_mean,
            double            seconds,
            const Run        *run)
{
  int   n_layers = model->net->n_taps;
  char *layers = perc_layers_format (metric->layers);
  char *name = cli_json_string (model->net->name);

  printf ("{\"test\": \"%s\", \"network\": %s, \"calibration\": \"%s\", "
          "\"distance_function\": \"%s\", \"layer_subset\": [%s], \"categories\": [",
          test->name, name, perc_calibration_name (metric->calibration),
          perc_distance_kind_name (metric->kind), layers);
  for (guint i = 0; i < categories->len; i++)
    {
      Category *c = g_ptr_array_index (categories, i);
      char     *cname = cli_json_string (c->name);

      printf ("%s{\"name\": %s, \"%s\": %" G_GSIZE_FORMAT ", \"score\": %.6f, \"per_layer\": [",
              i ? ", " : "", cname, test->n_images == 3 ? "triplets" : "pairs", c->n,
              100 * c->score);
      for (int l = 0; l < n_layers; l++)
        printf (l ? ", %.6f" : "%.6f", 100 * c->layer_score[l]);
      printf ("]}");
      g_free (cname);
    }
  printf ("], \"score\": %.6f, \"per_layer\": [", 100 * *mean);
  for (int l = 0; l < n_layers; l++)
    printf (l ? ", %.6f" : "%.6f", 100 * layer_mean[l]);
  printf ("], \"seconds\": %.3f, \"reading_seconds\": %.3f, \"computing_seconds\": %.3f}\n",
          seconds, run->reading, run->computing);
  g_free (layers);
  g_free (name);
}

static int
evaluate (const Test *test,
          int         argc,
          char      **argv)
{
  CliModelArgs     args = { 0 };
  gboolean         per_layer = FALSE, json = FALSE;
  int              n_threads = 0, status = 1;
  char           **only = NULL, *root = NULL, *error = NULL;
  GOptionContext  *ctx;
  GError          *opt_error = NULL;
  PerceptualChoice choice;
  PercMetric       metric;
  const PercModel *model = NULL;
  GPtrArray       *names = NULL, *categories = g_ptr_array_new_with_free_func ((GDestroyNotify) category_free);
  Worker          *workers = NULL;
  Run              run = { 0 };
  double           mean = 0, layer_mean[PERC_MAX_TAPS] = { 0 };
  gsize            total = 0;
  gint64           start;
  GOptionEntry     entries[] = {
    { "per-layer", 0, 0, G_OPTION_ARG_NONE, &per_layer, N_("also score each layer alone"), NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, N_("print JSON"), NULL },
    { "category", 0, 0, G_OPTION_ARG_STRING_ARRAY, &only, N_("only this category (repeatable)"), "NAME" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &n_threads, N_("threads computing distances (default: one per core)"), "N" },
    { NULL }
  };

  g_mutex_init (&run.lock);
  ctx = g_option_context_new (_("DIR"));
  g_option_context_set_summary (ctx, test->n_images == 3 ?
    _("The 2AFC score of a distance on a BAPPS-layout data set (DIR/2afc/val/<category>/"
      "{ref,p0,p1,judge}): per category, how often the distance agrees with people on which "
      "of two distortions is closer to the reference, and the mean over the categories "
      "(the Perceptual Score), x100.") :
    _("The JND mAP of a distance on a BAPPS-layout data set (DIR/jnd/val/<category>/"
      "{p0,p1,same}): how well the distance ranks the pairs people could not tell apart, "
      "as average precision x100 per category, and their mean."));
  cli_model_add_entries (ctx, &args);
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (ctx, &argc, &argv, &opt_error))
    {
      cli_error ("%s", opt_error->message);
      g_error_free (opt_error);
      g_option_context_free (ctx);
      cli_model_args_clear (&args);
      g_ptr_array_unref (categories);
      g_mutex_clear (&run.lock);
      return 2;
    }
  g_option_context_free (ctx);
  if (argc != 2 || n_threads < 0 || n_threads > 64)
    {
      cli_error (argc != 2 ? _("give one data set folder; see --help")
                           : _("--threads takes 1 to 64"));
      cli_model_args_clear (&args);
      g_strfreev (only);
      g_ptr_array_unref (categories);
      g_mutex_clear (&run.lock);
      return 2;
    }

  gegl_init (NULL, NULL);
  start = g_get_monotonic_time ();
  if (!cli_model_choice (&args, &choice))
    {
      status = 2;
      goto out;
    }
  {
    GError *model_error = NULL;

    model = perceptual_models_get (&choice, &metric, &model_error);
    if (!model)
      {
        cli_error ("%s", model_error->message);
        g_error_free (model_error);
        goto out;
      }
  }
  root = find_root (test, argv[1], &names, &error);
  if (error)
    {
      cli_error ("%s", error);
      goto out;
    }
  if (!root)
    {
      cli_error (_("%s: no %s categories (folders with %s) in %s/%s/val, %s/val or %s"),
                 argv[1], test->name, test->n_images == 3 ? "ref, p0, p1, judge" : "p0, p1, same",
                 argv[1], test->name, argv[1], argv[1]);
      goto out;
    }
  for (char **o = only; o && *o; o++)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < names->len; i++)
        found |= !strcmp (*o, g_ptr_array_index (names, i));
      if (!found)
        {
          cli_error (_("%s: no category \"%s\""), root, *o);
          goto out;
        }
    }
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      Category   *c;

      if (only && !g_strv_contains ((const char *const *) only, name))
        continue;
      c = category_open (test, root, name, &error);
      if (!c)
        {
          cli_error ("%s", error);
          goto out;
        }
      g_ptr_array_add (categories, c);
      total += c->n;
    }

  /* Threads side by side, each with its own workspace. */
  run.n_threads = n_threads ? n_threads : (int) MIN (g_get_num_processors (), 64);
  run.model = model;
  run.metric = &metric;
  run.test = test;
  run.images = g_new0 (PercImage, BATCH * test->n_images);
  workers = g_new0 (Worker, run.n_threads);
  for (int t = 0; t < run.n_threads; t++)
    {
      workers[t].run = &run;
      workers[t].index = t;
      for (int k = 0; k < GROUP * 3; k++)
        {
          workers[t].extractors[k] = perc_extractor_new (model);
          workers[t].features[k] = perc_features_new ();
        }
    }

  for (guint i = 0, done = 0; i < categories->len; i++)
    {
      Category *c = g_ptr_array_index (categories, i);

      run.category = c;
      for (gsize first = 0; first < c->n; first += BATCH)
        {
          if (!run_batch (&run, workers, first, MIN (BATCH, c->n - first)))
            {
              cli_error ("%s", run.error);
              goto out;
            }
          done += MIN (BATCH, c->n - first);
          if (isatty (fileno (stderr)))
            fprintf (stderr, "\r\033[K%s %u/%" G_GSIZE_FORMAT, c->name, done, total);
        }
      if (test->n_images == 2)
        {
          double same = 0;

          for (gsize k = 0; k < c->n; k++)
            same += c->labels[k];
          if (same <= 0)
            {
              cli_error (_("%s: no pair was judged the same by anyone: the mAP is undefined"),
                         c->name);
              goto out;
            }
        }
      score (test, c, model->net->n_taps);
      mean += c->score / categories->len;
      for (int l = 0; l < model->net->n_taps; l++)
        layer_mean[l] += c->layer_score[l] / categories->len;
    }
  if (isatty (fileno (stderr)))
    fprintf (stderr, "\r\033[K");
  {
    double seconds = (g_get_monotonic_time () - start) / 1e6;

    if (json)
      print_json (test, model, &metric, categories, &mean, layer_mean, seconds, &run);
    else
      {
        print_text (test, model, &metric, categories, per_layer, &mean, layer_mean);
        fflush (stdout);
        fprintf (stderr, _("%lu %s in %.1f s (%.2f s per 1000)\n"), (unsigned long) total,
                 test->n_images == 3 ? _("triplets") : _("pairs"), seconds,
                 1000 * seconds / MAX (total, 1));
      }
  }
  status = 0;

out:
  perceptual_models_release (model);
  for (int t = 0; workers && t < run.n_threads; t++)
    {
      for (int k = 0; k < GROUP * 3; k++)
        {
          perc_extractor_free (workers[t].extractors[k]);
          perc_features_free (workers[t].features[k]);
        }
      perc_distance_clear (&workers[t].distance);
    }
  g_free (workers);
  g_free (run.images);
  g_free (run.error);
  g_mutex_clear (&run.lock);
  g_ptr_array_unref (categories);
  if (names)
    g_ptr_array_unref (names);
  g_free (root);
  g_free (error);
  g_strfreev (only);
  cli_model_args_clear (&args);
  gegl_exit ();
  return status;
}

int
cli_2afc (int argc, char **argv)
{
  return evaluate (&tests[0], argc, argv);
}

int
cli_jnd (int argc, char **argv)
{
  return evaluate (&tests[1], argc, argv);
}
