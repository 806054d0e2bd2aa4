/* Tiled comparison equals the whole-image one: scalar, terms, spatial
 * map, one layer's map upsampled and at its own resolution; for every
 * network, odd sizes, tiles at every border, tiles smaller than the
 * receptive field, and a memory budget.
 */
#include <math.h>
#include <string.h>

#include "perc-error.h"
#include "run/perc-tiles.h"
#include "support/naive.h"
#include "support/test-core.h"
#include "support/test-util.h"
#include "support/whole-image.h"

static const char *tmpdir;

typedef struct
{
  int    width, height;
  float *rgb[2];
} Images;

static gboolean
read_region (int which, const PercRect *r, float *rgb, gpointer data,
             GError **error G_GNUC_UNUSED)
{
  Images *im = data;

  for (int y = 0; y < r->height; y++)
    memcpy (rgb + (gsize) y * r->width * 3,
            im->rgb[which] + ((gsize) (r->y + y) * im->width + r->x) * 3,
            (gsize) r->width * 3 * sizeof (float));
  return TRUE;
}

typedef struct
{
  float *map;
  int    stride;
  int    covered;
} Canvas;

static void
write_region (const PercRect *r, const float *map, gpointer data)
{
  Canvas *c = data;

  for (int y = 0; y < r->height; y++)
    for (int x = 0; x < r->width; x++)
      {
        float *dst = &c->map[(gsize) (r->y + y) * c->stride + r->x + x];

        g_assert_true (isnan (*dst));       /* each pixel written once */
        *dst = map[(gsize) y * r->width + x];
        c->covered++;
      }
}

static Images
make_images (int w, int h, guint32 seed)
{
  Images im = { w, h, { g_new (float, (gsize) w * h * 3), g_new (float, (gsize) w * h * 3) } };
  GRand *r = g_rand_new_with_seed (seed);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        {
          gsize i = ((gsize) y * w + x) * 3 + c;
          float v = 0.5f + 0.3f * sinf (x * 0.11f + c) * cosf (y * 0.07f - c) +
                    0.1f * g_rand_double (r);

          im.rgb[0][i] = v;
          im.rgb[1][i] = CLAMP (v + ((x / 9 + y / 7) % 3 == 0 ? 0.2f : 0.0f) *
                                g_rand_double (r), 0, 1);
        }
  g_rand_free (r);
  return im;
}

/* Runs the tiled comparison into a fresh canvas of cw x ch. */
static float *
tiled_metric (PercModel *model, const PercMetric *metric, Images *im, PercTileOptions o,
              int cw, int ch, PercDistance *d)
{
  Canvas  c = { g_new (float, (gsize) cw * ch), cw, 0 };
  GError *error = NULL;

  for (gsize i = 0; i < (gsize) cw * ch; i++)
    c.map[i] = NAN;
  o.write = write_region;
  o.write_data = &c;
  g_assert_true (perc_tiled_compare (model, metric, im->width, im->height,
                                     read_region, im, &o, d, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c.covered, ==, cw * ch);
  return c.map;
}

static float *
tiled (PercModel *model, Images *im, PercTileOptions o, int cw, int ch, PercDistance *d)
{
  PercMetric metric = { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 };

  return tiled_metric (model, &metric, im, o, cw, ch, d);
}

/* Tiled against whole-image results for `path`'s model and `metric`. */
static void
compare_model (const char *path, const PercMetric *metric, int seed, int w, int h,
               const int *tiles, int n_tiles)
{
  PercModel    *model = perc_model_load (path, test_microkernel (), NULL);
  const char   *network = model->net->name;
  Images        im = make_images (w, h, seed);
  Comparer     *cmp = comparer_new (model);
  PercDistance  whole = { 0 };
  float        *want = g_new (float, (gsize) w * h), *want_layer = g_new (float, (gsize) w * h);
  int           layer = model->net->n_taps - 2;

  g_assert_true (comparer_run (cmp, metric,
                               &(PercImage) { w, h, 3 * (gsize) w, im.rgb[0] },
                               &(PercImage) { w, h, 3 * (gsize) w, im.rgb[1] },
                               &whole, NULL));
  spatial_map (&whole, w, h, want);
  layer_map (&whole, layer, w, h, want_layer);

  for (int t = 0; t < n_tiles; t++)
    {
      /* Each way of using threads, in turn. */
      PercTileOptions o = { .tile = tiles[t], .layer = -1, .threads = (t + seed) % 3 };
      PercDistance    d = { 0 };
      float          *map = tiled_metric (model, metric, &im, o, w, h, &d);
      const PercShape *g = &whole.shapes[layer];

      if (g_test_verbose ())
        g_printerr ("  %s %dx%d tile %d%s: distance %.9f (whole %.9f), map diff %.2g\n",
                    network, w, h, tiles[t], o.threads == PERC_THREADS_ONE ? "" : o.threads == PERC_THREADS_IMAGES ?
                    " images in two threads" : " split",
                    d.distance, whole.distance,
                    max_abs_diff (map, want, (gsize) w * h));
      g_assert_cmpfloat (fabs (d.distance - whole.distance), <=, 1e-6);
      for (int l = 0; l < whole.n_layers; l++)
        g_assert_cmpfloat (fabs (d.terms[l] - whole.terms[l]), <=, 1e-7);
      g_assert_cmpfloat (max_abs_diff (map, want, (gsize) w * h), <=, 1e-5);
      g_free (map);

      o.layer = layer;
      map = tiled_metric (model, metric, &im, o, w, h, &d);
      g_assert_cmpfloat (max_abs_diff (map, want_layer, (gsize) w * h), <=, 1e-5);
      g_free (map);

      o.layer_grid = TRUE;
      map = tiled_metric (model, metric, &im, o, g->w, g->h, &d);
      g_assert_cmpfloat (max_abs_diff (map, whole.maps[layer], (gsize) g->w * g->h), <=, 1e-5);
      g_free (map);
    }

  g_free (want);
  g_free (want_layer);
  g_free (im.rgb[0]);
  g_free (im.rgb[1]);
  perc_distance_clear (&whole);
  comparer_free (cmp);
  perc_model_free (model);
}

static void
compare_network (const char *network, int seed, int w, int h, const int *tiles, int n_tiles)
{
  char      *path = synth_model (tmpdir, network, "lpips-v0.1", seed);
  PercMetric metric = { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 };

  compare_model (path, &metric, seed, w, h, tiles, n_tiles);
  g_free (path);
}

static void
test_squeeze (void)
{
  /* 16 is the alignment; 5 is enlarged to it; 4096 is one tile. */
  static const int tiles[] = { 5, 48, 4096 };
  compare_network ("squeeze", 1, 161, 127, tiles, G_N_ELEMENTS (tiles));
}

static void
test_alex (void)
{
  static const int tiles[] = { 48 };
  compare_network ("alex", 5, 157, 131, tiles, G_N_ELEMENTS (tiles));
}

static void
test_vgg (void)
{
  static const int tiles[] = { 32 };
  compare_network ("vgg", 7, 99, 77, tiles, G_N_ELEMENTS (tiles));
}

static void
test_resnet (void)
{
  /* 32 is a ResNet's alignment; the residual adds widen the fields. */
  static const int tiles[] = { 32, 96 };
  char      *path = synth_resnet (tmpdir, "resnet18", NULL, NULL, "unweighted", 11);
  PercMetric metric = { PERC_CALIBRATION_UNWEIGHTED, PERC_DISTANCE_SPATIAL, 0 };

  compare_model (path, &metric, 11, 173, 109, tiles, G_N_ELEMENTS (tiles));
  /* A layer subset (stage 3 and the stem). */
  metric.layers = 1u << 2 | 1u << 4;
  compare_model (path, &metric, 12, 97, 131, tiles, 1);
  g_free (path);
  path = synth_resnet (tmpdir, "resnet-b2", "bottleneck", "1,2", "unweighted", 13);
  metric.layers = 1u << 1 | 1u << 2;
  compare_model (path, &metric, 13, 81, 67, tiles, 1);
  g_free (path);
}

/* Mean-pool and style distances accumulate tile by tile. */
static void
test_pooled (void)
{
  const char *paths[] = {
    synth_model (tmpdir, "squeeze", "lpips-v0.1", 1),
    synth_resnet (tmpdir, "resnet6", "basic", "1,1", "unweighted", 13),
  };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    for (PercDistanceKind kind = PERC_DISTANCE_MEAN_POOL; kind <= PERC_DISTANCE_STYLE; kind++)
      {
        PercModel      *model = perc_model_load (paths[i], test_microkernel (), NULL);
        PercMetric      metric = { PERC_CALIBRATION_UNWEIGHTED, kind, 0 };
        Images          im = make_images (143, 119, 4);
        Comparer       *cmp = comparer_new (model);
        PercDistance    whole = { 0 }, d = { 0 };
        PercTileOptions o = { .tile = 48, .layer = -1 };
        GError         *error = NULL;

        g_assert_true (comparer_run (cmp, &metric,
                                     &(PercImage) { 143, 119, 3 * 143, im.rgb[0] },
                                     &(PercImage) { 143, 119, 3 * 143, im.rgb[1] },
                                     &whole, NULL));
        g_assert_true (perc_tiled_compare (model, &metric, 143, 119, read_region, &im,
                                           &o, &d, &error));
        g_assert_no_error (error);
        if (g_test_verbose ())
          g_printerr ("  %s %s: tiled %.9g, whole %.9g\n", model->net->name,
                      perc_distance_kind_name (kind), d.distance, whole.distance);
        g_assert_cmpfloat (whole.distance, >, 0);
        for (int l = 0; l < whole.n_layers; l++)
          g_assert_cmpfloat (fabs (d.terms[l] - whole.terms[l]), <=, 1e-6 * whole.terms[l]);
        g_assert_cmpfloat (fabs (d.distance - whole.distance), <=, 1e-6 * whole.distance);

        /* These distances have no map. */
        o.write = write_region;
        g_assert_false (perc_tiled_compare (model, &metric, 143, 119, read_region, &im,
                                            &o, &d, &error));
        g_assert_nonnull (strstr (error->message, "has no map"));
        g_clear_error (&error);
        /* ... and no calibrated weights. */
        metric.calibration = PERC_CALIBRATION_LPIPS_V0_1;
        o.write = NULL;
        g_assert_false (perc_tiled_compare (model, &metric, 143, 119, read_region, &im,
                                            &o, &d, &error));
        g_clear_error (&error);

        g_free (im.rgb[0]);
        g_free (im.rgb[1]);
        perc_distance_clear (&whole);
        comparer_free (cmp);
        perc_model_free (model);
      }
  g_free ((char *) paths[0]);
  g_free ((char *) paths[1]);
}

/* Every op run in two parts, one after the other, against the op run
 * whole: convolution rows, pooling channels and residual-add elements.
 */
/* Tile by tile in any order, and regions that cut tiles: the map and
 * the layer sums of the whole-image computation.
 */
static void
test_regions (void)
{
  char         *path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 6);
  PercModel    *model = perc_model_load (path, test_microkernel (), NULL);
  PercMetric    metric = { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 };
  int           w = 83, h = 61;
  Images        im = make_images (w, h, 6);
  Comparer     *cmp = comparer_new (model);
  PercTiler    *tiler = perc_tiler_new (model);
  PercDistance  whole = { 0 };
  float        *want = g_new (float, (gsize) w * h);
  GRand        *rand = g_rand_new_with_seed (6);
  GError       *error = NULL;

  g_assert_true (comparer_run (cmp, &metric,
                               &(PercImage) { w, h, 3 * (gsize) w, im.rgb[0] },
                               &(PercImage) { w, h, 3 * (gsize) w, im.rgb[1] },
                               &whole, NULL));
  spatial_map (&whole, w, h, want);
  for (int side = 16; side <= 48; side += 32)
    {
      int             tile = perc_tiled_align (model, side);
      int             nx = (w + tile - 1) / tile, ny = (h + tile - 1) / tile;
      int            *order = g_new (int, nx * ny);
      Canvas          c = { g_new (float, (gsize) w * h), w, 0 };
      PercTileOptions o = { .tile = side, .layer = -1, .write = write_region, .write_data = &c };
      double          total[PERC_MAX_TAPS] = { 0 }, sums[PERC_MAX_TAPS];

      for (gsize i = 0; i < (gsize) w * h; i++)
        c.map[i] = NAN;
      for (int i = 0; i < nx * ny; i++)
        order[i] = i;
      for (int i = nx * ny - 1; i > 0; i--)
        {
          int j = g_rand_int_range (rand, 0, i + 1), t = order[i];

          order[i] = order[j];
          order[j] = t;
        }
      for (int i = 0; i < nx * ny; i++)
        {
          /* One pixel of the tile: the whole tile is computed. */
          PercRect r = { order[i] % nx * tile + 1, order[i] / nx * tile, 1, 1 };

          g_assert_true (perc_tiler_run_region (tiler, &metric, w, h, read_region, &im, &o,
                                                &r, sums, &error));
          g_assert_no_error (error);
          for (int l = 0; l < whole.n_layers; l++)
            total[l] += sums[l];
        }
      g_assert_cmpint (c.covered, ==, w * h);
      g_assert_cmpfloat (max_abs_diff (c.map, want, (gsize) w * h), <=, 1e-6);
      for (int l = 0; l < whole.n_layers; l++)
        g_assert_cmpfloat (fabs (total[l] / ((double) whole.shapes[l].h * whole.shapes[l].w) -
                                 whole.terms[l]), <=, 1e-7);

      /* A region across tiles writes each tile it meets. */
      for (gsize i = 0; i < (gsize) w * h; i++)
        c.map[i] = NAN;
      c.covered = 0;
      g_assert_true (perc_tiler_run_region (tiler, &metric, w, h, read_region, &im, &o,
                                            &(PercRect) { tile - 3, 5, tile, 7 }, sums, &error));
      g_assert_cmpint (c.covered, ==, MIN (2 * tile, w) * MIN (tile, h));
      for (int y = 0; y < MIN (tile, h); y++)
        for (int x = 0; x < MIN (2 * tile, w); x++)
          g_assert_cmpfloat (fabs (c.map[y * w + x] - want[y * w + x]), <=, 1e-6);
      g_free (c.map);
      g_free (order);
    }
  g_rand_free (rand);
  g_free (want);
  g_free (im.rgb[0]);
  g_free (im.rgb[1]);
  perc_distance_clear (&whole);
  perc_tiler_free (tiler);
  comparer_free (cmp);
  perc_model_free (model);
  g_free (path);
}

static void
test_parts (void)
{
  char *paths[2] = { synth_model (tmpdir, "squeeze", "lpips-v0.1", 3),
                     synth_resnet (tmpdir, "resnet-b1", "basic", "1,1", "unweighted", 4) };

  for (int m = 0; m < 2; m++)
    {
      PercModel *model = perc_model_load (paths[m], test_microkernel (), NULL);
      PercNet   *net = model->net;
      PercShape *shapes = g_new (PercShape, net->n_buffers);
      float     *whole[64], *parts[64], *scratch;
      GRand     *rand = g_rand_new_with_seed (m);

      g_assert_cmpint (net->n_buffers, <=, 64);
      g_assert_true (perc_net_shapes (net, 75, 69, shapes));
      scratch = g_new (float, perc_network_scratch (model, shapes) + 1);
      for (int b = 0; b < net->n_buffers; b++)
        {
          gsize n = (gsize) shapes[b].c * shapes[b].h * shapes[b].w;

          whole[b] = g_new0 (float, n);
          parts[b] = g_new0 (float, n);
          for (gsize i = 0; b == 0 && i < n; i++)
            whole[0][i] = parts[0][i] = g_rand_double_range (rand, -1, 1);
        }
      for (int i = 0; i < net->n_ops; i++)
        {
          const PercShape *d = &shapes[net->ops[i].dst];

          perc_network_op (model, i, shapes, whole, scratch, 0, 1);
          perc_network_op (model, i, shapes, parts, scratch, 0, 2);
          perc_network_op (model, i, shapes, parts, scratch, 1, 2);
          g_assert_cmpmem (whole[net->ops[i].dst], (gsize) d->c * d->h * d->w * sizeof (float),
                           parts[net->ops[i].dst], (gsize) d->c * d->h * d->w * sizeof (float));
        }
      for (int b = 0; b < net->n_buffers; b++)
        {
          g_free (whole[b]);
          g_free (parts[b]);
        }
      g_free (scratch);
      g_free (shapes);
      g_rand_free (rand);
      perc_model_free (model);
      g_free (paths[m]);
    }
}

static void
test_budget (void)
{
  char         *path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);
  PercModel    *model = perc_model_load (path, test_microkernel (), NULL);
  Images        im = make_images (480, 400, 3);
  PercDistance  a = { 0 }, b = { 0 };
  gsize         bytes, budget = 20 << 20;
  int           tile = perc_tiled_tile_size (model, 480, 400, budget, PERC_THREADS_ONE, 1, &bytes);
  GError       *error = NULL;
  float        *m1, *m2;

  /* A budget smaller than the whole image: several tiles, within it. */
  if (g_test_verbose ())
    g_printerr ("  20 MiB: tile %d, %.1f MiB\n", tile, bytes / 1048576.0);
  g_assert_cmpint (tile, >, 0);
  g_assert_cmpint (tile, <, 400);
  g_assert_cmpuint (bytes, <=, budget);
  m1 = tiled (model, &im, (PercTileOptions) { .budget = budget, .layer = -1 }, 480, 400, &a);
  m2 = tiled (model, &im, (PercTileOptions) { .budget = 1 << 30, .layer = -1 }, 480, 400, &b);
  g_assert_cmpfloat (fabs (a.distance - b.distance), <=, 1e-6);
  g_assert_cmpfloat (max_abs_diff (m1, m2, 480 * 400), <=, 1e-5);

  /* Too small a budget, and NaN pixels: errors. */
  g_assert_false (perc_tiled_compare (model, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 }, 480, 400, read_region,
                                      &im, &(PercTileOptions) { .budget = 1 << 20, .layer = -1 },
                                      &a, &error));
  if (g_test_verbose ())
    g_printerr ("  %s\n", error->message);
  g_assert_nonnull (strstr (error->message, "too small for the squeeze network: it needs at least"));
  g_clear_error (&error);
  im.rgb[1][3 * (480 * 300 + 250)] = NAN;
  g_assert_false (perc_tiled_compare (model, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 }, 480, 400, read_region,
                                      &im, &(PercTileOptions) { .tile = 64, .layer = -1 },
                                      &a, &error));
  g_assert_nonnull (strstr (error->message, "NaN"));
  g_clear_error (&error);
  /* The same with two threads. */
  g_assert_false (perc_tiled_compare (model, &(PercMetric) { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 }, 480, 400, read_region,
                                      &im, &(PercTileOptions) { .tile = 64, .layer = -1,
                                                                .threads = PERC_THREADS_SPLIT },
                                      &a, &error));
  g_assert_nonnull (strstr (error->message, "NaN"));
  g_clear_error (&error);

  g_free (m1);
  g_free (m2);
  g_free (im.rgb[0]);
  g_free (im.rgb[1]);
  perc_model_free (model);
  g_free (path);
}

typedef struct
{
  int    calls, stop_after;
  double last;
} Progress;

static gboolean
progress (double   done,
          gpointer data)
{
  Progress *p = data;

  g_assert_cmpfloat (done, >, p->last);
  g_assert_cmpfloat (done, <=, 1.0 + 1e-12);
  p->last = done;
  return ++p->calls != p->stop_after;
}

/* Progress after every layer of every tile, up to 1; FALSE stops. */
static void
test_progress (void)
{
  char        *path = synth_model (tmpdir, "squeeze", "lpips-v0.1", 1);
  PercModel   *model = perc_model_load (path, test_microkernel (), NULL);
  Images       im = make_images (150, 100, 4);
  PercMetric   metric = { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 };
  PercDistance d = { 0 };
  GError      *error = NULL;
  Progress     p = { 0, 0, 0 };
  /* 64-pixel tiles: 3 x 2 of them, 7 layers each. */
  PercTileOptions o = { .tile = 64, .layer = -1, .progress = progress, .progress_data = &p };

  g_assert_true (perc_tiled_compare (model, &metric, 150, 100, read_region, &im, &o, &d, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p.calls, ==, 6 * 7);
  g_assert_cmpfloat (fabs (p.last - 1.0), <=, 1e-12);

  /* Stopped in the third tile: an error, nothing more reported. */
  p = (Progress) { 0, 2 * 7 + 3, 0 };
  g_assert_false (perc_tiled_compare (model, &metric, 150, 100, read_region, &im, &o, &d, &error));
  g_assert_error (error, PERC_ERROR, PERC_ERROR_CANCELLED);
  g_assert_cmpint (p.calls, ==, 2 * 7 + 3);
  g_clear_error (&error);

  g_free (im.rgb[0]);
  g_free (im.rgb[1]);
  perc_model_free (model);
  g_free (path);
}

int
main (int argc, char **argv)
{
  tmpdir = test_setup (&argc, &argv);
  g_test_add_func ("/tiles/squeeze", test_squeeze);
  g_test_add_func ("/tiles/alex", test_alex);
  g_test_add_func ("/tiles/vgg", test_vgg);
  g_test_add_func ("/tiles/resnet", test_resnet);
  g_test_add_func ("/tiles/pooled", test_pooled);
  g_test_add_func ("/tiles/parts", test_parts);
  g_test_add_func ("/tiles/regions", test_regions);
  g_test_add_func ("/tiles/budget", test_budget);
  g_test_add_func ("/tiles/progress", test_progress);
  return g_test_run ();
}
