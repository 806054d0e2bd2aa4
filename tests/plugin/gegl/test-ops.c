/* The perceptual ops through GEGL's API: values against the PyTorch
 * goldens (synthetic weights) and, when the real weights are available,
 * against the official LPIPS values; one model for many nodes; every
 * documented failure.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utime.h>
#include <gegl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "gegl/perceptual-connect.h"
#include "gegl/perceptual-enums.h"
#include "run/perc-tiles.h"
#include "support/naive.h"
#include "support/test-core.h"
#include "support/test-util.h"
#include "support/whole-image.h"

static const char *tmpdir;
static JsonObject *golden;          /* squeeze lpips-v0.1, seed 1 */
static JsonObject *golden_alex;     /* alex lpips-v0.1, seed 5, 47x31 */
static JsonParser *parser;
static JsonParser *study_parser;
static JsonObject *study;           /* resnet18 unweighted, seed 11, 67x45 */
static JsonObject *study_custom;    /* resnet6: basic 1,1, seed 13 */
static int         n_loads;         /* models loaded, from the op's debug log */
static int         n_frees;         /* models freed, likewise */
static int         n_compares;      /* comparisons run, likewise */
static int         n_two_threads;   /* of them, with two threads */
static int         lone_blocks[2];  /* single blocks in one and in two threads */
static int         blocks_computed; /* blocks the map ops computed, likewise */
static GPtrArray  *warnings;

static void
log_handler (const char    *domain,
             GLogLevelFlags level,
             const char    *message,
             gpointer       data G_GNUC_UNUSED)
{
  if (level & G_LOG_LEVEL_DEBUG)
    {
      n_loads += g_str_has_prefix (message, "loaded ");
      n_frees += g_str_has_prefix (message, "freed ");
      n_compares += g_str_has_prefix (message, "comparing ");
      n_two_threads += g_str_has_prefix (message, "comparing ") &&
                       !strstr (message, "one thread");
      if (g_str_has_prefix (message, "one block in "))
        lone_blocks[!!strcmp (message, "one block in 1 thread(s)")]++;
      if (g_str_has_prefix (message, "comparing ") && strstr (message, " block"))
        blocks_computed += atoi (message + strlen ("comparing "));
    }
  else if ((level & G_LOG_LEVEL_MESSAGE) && !g_strcmp0 (domain, "GEGL"))
    g_ptr_array_add (warnings, g_strdup (message));
  if (g_test_verbose () && !(level & G_LOG_LEVEL_DEBUG))
    g_printerr ("  [%s] %s\n", domain, message);
}

/* A buffer with a golden case's image (uint8 RGB) and alpha `alpha`. */
static GeglBuffer *
case_buffer (JsonObject *c, const char *member, float alpha)
{
  int         w = json_object_get_int_member (c, "width");
  int         h = json_object_get_int_member (c, "height");
  JsonArray  *px = json_object_get_array_member (c, member);
  GeglBuffer *buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h),
                                        babl_format ("R'G'B'A float"));
  float      *rgba = g_new (float, (gsize) w * h * 4);

  for (int i = 0; i < w * h; i++)
    {
      for (int c = 0; c < 3; c++)
        rgba[4 * i + c] = json_array_get_int_element (px, 3 * i + c) / 255.0f;
      rgba[4 * i + 3] = alpha;
    }
  gegl_buffer_set (buffer, NULL, 0, babl_format ("R'G'B'A float"), rgba,
                   GEGL_AUTO_ROWSTRIDE);
  g_free (rgba);
  return buffer;
}

static GeglBuffer *
golden_buffer (const char *member, float alpha)
{
  return case_buffer (golden, member, alpha);
}

typedef struct
{
  GeglNode *graph, *op;
} Graph;

/* A network's value in the ops' enum, from its name. */
static int
network (const char *name)
{
  GEnumClass *klass = g_type_class_ref (g_type_from_name ("PerceptualNetwork"));
  GEnumValue *v = g_enum_get_value_by_nick (klass, name);
  int         value;

  g_assert_nonnull (v);
  value = v->value;
  g_type_class_unref (klass);
  return value;
}

/* input -> op, with aux (NULL: nothing connected). */
static Graph
make_graph (const char *operation, GeglBuffer *input, GeglBuffer *aux)
{
  Graph     g;
  GeglNode *in, *au;

  g.graph = gegl_node_new ();
  in = gegl_node_new_child (g.graph, "operation", "gegl:buffer-source",
                            "buffer", input, NULL);
  g.op = gegl_node_new_child (g.graph, "operation", operation, NULL);
  perceptual_connect (in, g.op, "input");
  if (aux)
    {
      au = gegl_node_new_child (g.graph, "operation", "gegl:buffer-source",
                                "buffer", aux, NULL);
      perceptual_connect (au, g.op, "aux");
    }
  return g;
}

typedef struct
{
  GeglNode     *op;
  GeglRectangle box;
  float        *map;
} Request;

/* Thread 0 renders the request (Y float); the others only wait. */
static void
render_in_thread_0 (gint i, gint n G_GNUC_UNUSED, gpointer data)
{
  Request *r = data;

  if (i == 0)
    gegl_node_blit (r->op, 1.0, &r->box, babl_format ("Y float"), r->map,
                    r->box.width * sizeof (float), GEGL_BLIT_DEFAULT);
}

/* Renders the op's output (Y float) over its bounding box. */
static float *
render (Graph *g, GeglRectangle *box)
{
  float *map;

  *box = gegl_node_get_bounding_box (g->op);
  map = g_new0 (float, (gsize) MAX (box->width * box->height, 1));
  gegl_node_blit (g->op, 1.0, box, babl_format ("Y float"), map,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  return map;
}

static double
get_double (GeglNode *node, const char *name)
{
  double v;

  gegl_node_get (node, name, &v, NULL);
  return v;
}

static char *
get_status (GeglNode *node)
{
  char *s;

  gegl_node_get (node, "status", &s, NULL);
  return s;
}

static void
assert_map (const float *got, JsonArray *want, gsize n)
{
  double err = 0;

  g_assert_cmpuint (json_array_get_length (want), ==, n);
  for (gsize i = 0; i < n; i++)
    err = MAX (err, fabs (got[i] - json_array_get_double_element (want, i)));
  if (g_test_verbose ())
    g_printerr ("  map max abs diff %.3g\n", err);
  g_assert_cmpfloat (err, <=, 1e-5);
}

static void
test_distance (void)
{
  GeglBuffer   *a = golden_buffer ("image0", 1), *b = golden_buffer ("image1", 1);
  Graph         g = make_graph ("perceptual:distance", a, b);
  GeglRectangle box;
  float        *map = render (&g, &box);
  double        d = get_double (g.op, "distance");

  /* The first node of the process loads the model. */
  g_assert_cmpint (n_loads, ==, 1);
  g_assert_cmpint (n_compares, ==, 1);
  /* Any later request, whole or in part, comes from the cache. */
  {
    float part[4 * 5];

    gegl_node_blit (g.op, 1.0, GEGL_RECTANGLE (3, 4, 4, 5), babl_format ("Y float"),
                    part, GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
    g_free (render (&g, &box));
    g_assert_cmpint (n_compares, ==, 1);
    g_assert_cmpfloat (part[0], ==, map[4 * box.width + 3]);
  }
  g_assert_cmpint (box.width, ==, json_object_get_int_member (golden, "width"));
  g_assert_cmpint (box.height, ==, json_object_get_int_member (golden, "height"));
  if (g_test_verbose ())
    g_printerr ("  distance %.9g, golden %.9g\n", d,
                json_object_get_double_member (golden, "distance"));
  g_assert_cmpfloat (fabs (d - json_object_get_double_member (golden, "distance")), <=, 1e-5);
  assert_map (map, json_object_get_array_member (golden, "spatial"), (gsize) box.width * box.height);

  g_free (map);
  g_object_unref (g.graph);
  g_object_unref (a);
  g_object_unref (b);
}

/* Alpha plays no part, as in the reference implementation. */
static void
test_alpha_ignored (void)
{
  GeglBuffer   *a = golden_buffer ("image0", 1), *b = golden_buffer ("image1", 1);
  GeglBuffer   *a2 = golden_buffer ("image0", 0.25f), *b2 = golden_buffer ("image1", 0.5f);
  Graph         g = make_graph ("perceptual:distance", a, b);
  Graph         g2 = make_graph ("perceptual:distance", a2, b2);
  Graph         same = make_graph ("perceptual:distance", a, a2);
  GeglRectangle box;

  g_free (render (&g, &box));
  g_free (render (&g2, &box));
  g_free (render (&same, &box));
  g_assert_cmpfloat (get_double (g.op, "distance"), ==, get_double (g2.op, "distance"));
  g_assert_cmpfloat (get_double (same.op, "distance"), ==, 0);

  g_object_unref (g.graph);
  g_object_unref (g2.graph);
  g_object_unref (same.graph);
  g_object_unref (a);
  g_object_unref (b);
  g_object_unref (a2);
  g_object_unref (b2);
}

static void
test_layer_difference (void)
{
  GeglBuffer *a = golden_buffer ("image0", 1), *b = golden_buffer ("image1", 1);
  JsonArray  *terms = json_object_get_array_member (golden, "layers");
  JsonArray  *native = json_object_get_array_member (golden, "layer_maps");
  JsonArray  *up = json_object_get_array_member (golden, "layer_maps_upsampled");

  for (guint l = 0; l < json_array_get_length (terms); l++)
    for (int at_layer = 0; at_layer < 2; at_layer++)
      {
        Graph         g = make_graph ("perceptual:layer-difference", a, b);
        GeglRectangle box;
        float        *map;
        JsonArray    *shape = json_array_get_array_element (
                                json_object_get_array_member (golden, "layer_shapes"), l);

        gegl_node_set (g.op, "layer", l + 1, "layer-resolution", at_layer, NULL);
        map = render (&g, &box);
        g_assert_cmpfloat (fabs (get_double (g.op, "term") -
                                 json_array_get_double_element (terms, l)), <=, 1e-6);
        if (at_layer)
          {
            g_assert_cmpint (box.height, ==, json_array_get_int_element (shape, 0));
            g_assert_cmpint (box.width, ==, json_array_get_int_element (shape, 1));
            assert_map (map, json_array_get_array_element (native, l), (gsize) box.width * box.height);
          }
        else
          assert_map (map, json_array_get_array_element (up, l), (gsize) box.width * box.height);
        g_free (map);
        g_object_unref (g.graph);
      }

  /* A layer the network does not have: a warning, NaN, an empty box. */
  {
    GeglBuffer   *x = case_buffer (golden_alex, "image0", 1);
    GeglBuffer   *y = case_buffer (golden_alex, "image1", 1);
    Graph         g = make_graph ("perceptual:layer-difference", x, y);
    GeglRectangle box;
    char         *status;

    gegl_node_set (g.op, "layer", 6, "network", network ("alex"),
                   "layer-resolution", TRUE, NULL);
    g_free (render (&g, &box));
    g_assert_cmpint (box.width, ==, 0);
    gegl_node_set (g.op, "layer-resolution", FALSE, NULL);
    g_free (render (&g, &box));
    status = get_status (g.op);
    g_assert_true (isnan (get_double (g.op, "term")));
    g_assert_nonnull (strstr (status, "there is no layer 6"));
    g_free (status);
    g_object_unref (g.graph);
    g_object_unref (x);
    g_object_unref (y);
  }
  g_object_unref (a);
  g_object_unref (b);
}

/* Many nodes, many process calls, changed properties: each model file is
 * loaded once; network and calibration change the result.
 */
static void
test_shared_model (void)
{
  GeglBuffer   *a = golden_buffer ("image0", 1), *b = golden_buffer ("image1", 1);
  Graph         g[6];
  double        d[6];
  GeglRectangle box;
  int           loads_before = n_loads;

  for (int i = 0; i < 6; i++)
    {
      g[i] = make_graph (i % 2 ? "perceptual:heatmap" : "perceptual:distance", a, b);
      for (int k = 0; k < 3; k++)
        {
          /* A property change makes the node compute again. */
          gegl_node_set (g[i].op, "weights", "", NULL);
          g_free (render (&g[i], &box));
        }
      d[i] = get_double (g[i].op, "distance");
      g_assert_cmpfloat (d[i], ==, d[0]);
    }
  g_assert_cmpint (n_loads - loads_before, ==, 0);

  gegl_node_set (g[0].op, "calibration", 2 /* unweighted */, NULL);
  g_free (render (&g[0], &box));
  g_assert_true (fabs (get_double (g[0].op, "distance") - d[1]) > 1e-3);

  /* AlexNet needs 31x31: its own golden images, and its golden value. */
  {
    GeglBuffer *x = case_buffer (golden_alex, "image0", 1);
    GeglBuffer *y = case_buffer (golden_alex, "image1", 1);
    Graph       ga = make_graph ("perceptual:distance", x, y);
    double      squeeze_d, alex_d;

    g_free (render (&ga, &box));
    squeeze_d = get_double (ga.op, "distance");
    gegl_node_set (ga.op, "network", network ("alex"), NULL);
    g_free (render (&ga, &box));
    alex_d = get_double (ga.op, "distance");
    if (g_test_verbose ())
      g_printerr ("  squeeze %.6f, alex %.6f, alex golden %.6f\n", squeeze_d, alex_d,
                  json_object_get_double_member (golden_alex, "distance"));
    g_assert_cmpfloat (fabs (alex_d - json_object_get_double_member (golden_alex, "distance")), <=, 1e-5);
    g_assert_true (fabs (alex_d - squeeze_d) > 1e-3);
    g_object_unref (ga.graph);
    g_object_unref (x);
    g_object_unref (y);
  }
  /* Both calibrations come from the one squeeze file: in the whole
   * process so far, squeeze and alex were each loaded once.
   */
  g_assert_cmpint (n_loads, ==, 2);

  for (int i = 0; i < 6; i++)
    g_object_unref (g[i].graph);
  g_object_unref (a);
  g_object_unref (b);
}

/* A weights file that changes on disk is loaded again, and the model it
 * replaces is freed: at once when no node uses it.
 */
static void
test_superseded_model (void)
{
  GeglBuffer   *a = golden_buffer ("image0", 1), *b = golden_buffer ("image1", 1);
  char         *installed = g_build_filename (tmpdir, "squeeze-lpips-v0.1.safetensors", NULL);
  char         *path = g_build_filename (tmpdir, "changing.safetensors", NULL);
  char         *data;
  gsize         size;
  Graph         g = make_graph ("perceptual:distance", a, b);
  GeglRectangle box;
  int           loads = n_loads, frees = n_frees;
  GStatBuf      st;
  struct utimbuf times;

  g_assert_true (g_file_get_contents (installed, &data, &size, NULL));
  g_assert_true (g_file_set_contents (path, data, size, NULL));
  gegl_node_set (g.op, "weights", path, NULL);
  g_free (render (&g, &box));
  g_assert_cmpfloat (fabs (get_double (g.op, "distance") -
                           json_object_get_double_member (golden, "distance")), <=, 1e-5);
  g_assert_cmpint (n_loads - loads, ==, 1);

  for (int k = 1; k <= 3; k++)
    {
      /* Another modification time: another version of the file. */
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      times.actime = times.modtime = st.st_mtime + 100;
      g_assert_cmpint (g_utime (path, &times), ==, 0);
      gegl_node_set (g.op, "weights", "", NULL);
      gegl_node_set (g.op, "weights", path, NULL);
      g_free (render (&g, &box));
      g_assert_cmpint (n_loads - loads, ==, 1 + k);
      g_assert_cmpint (n_frees - frees, ==, k);
      g_assert_cmpfloat (fabs (get_double (g.op, "distance") -
                               json_object_get_double_member (golden, "distance")), <=, 1e-5);
    }
  g_object_unref (g.graph);
  g_object_unref (a);
  g_object_unref (b);
  g_free (data);
  g_free (installed);
  g_free (path);
}

/* NaN, the status says why, and with `warns` a warning says it too (once
 * per process and message).  With nothing to compare (`input` given) the
 * op passes its input through; a comparison that fails leaves a zero map.
 */
static void
expect_failure (Graph *g, const char *status_part, gboolean warns, GeglBuffer *input)
{
  guint         seen = 0;
  GeglRectangle box;
  float        *map = render (g, &box);
  char         *status;

  g_assert_true (isnan (get_double (g->op, "distance")));
  status = get_status (g->op);
  if (input)
    {
      float *want = g_new (float, (gsize) box.width * box.height);

      gegl_buffer_get (input, &box, 1.0, babl_format ("Y float"), want,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      g_assert_cmpfloat (max_abs_diff (map, want, (gsize) box.width * box.height), <=, 1e-6);
      g_free (want);
    }
  else
    for (int i = 0; i < box.width * box.height; i++)
      g_assert_cmpfloat (map[i], ==, 0);
  if (g_test_verbose ())
    g_printerr ("  status: %s\n", status);
  g_assert_nonnull (strstr (status, status_part));
  /* Warned (when the choice was made, or now), and only once. */
  for (guint i = 0; i < warnings->len; i++)
    seen += !strcmp (g_ptr_array_index (warnings, i), status);
  g_assert_cmpuint (seen, ==, warns ? 1 : 0);
  g_free (status);
  g_free (map);
}

static void
test_failures (void)
{
  GeglBuffer   *a = golden_buffer ("image0", 1), *b = golden_buffer ("image1", 1);
  GeglBuffer   *tiny = gegl_buffer_new (GEGL_RECTANGLE (0, 0, 10, 40), babl_format ("R'G'B'A float"));
  char         *corrupt = g_build_filename (tmpdir, "corrupt.safetensors", NULL);
  char         *missing = g_build_filename (tmpdir, "missing.safetensors", NULL);
  GeglRectangle box;
  Graph         g;

  write_file (corrupt, "\x10\0\0\0\0\0\0\0{\"a\": 1}", 16);

  g = make_graph ("perceptual:distance", a, NULL);
  expect_failure (&g, "connect the aux input", FALSE, a);
  g_object_unref (g.graph);

  g = make_graph ("perceptual:distance", a, tiny);
  expect_failure (&g, "needs at least 17x17", TRUE, a);
  g_object_unref (g.graph);

  /* A NaN pixel in the compared image. */
  {
    GeglBuffer *nan = gegl_buffer_dup (b);

    gegl_buffer_set (nan, GEGL_RECTANGLE (5, 6, 1, 1), 0, babl_format ("R'G'B'A float"),
                     (float[]) { 0.5f, NAN, 0.5f, 1.0f }, GEGL_AUTO_ROWSTRIDE);
    g = make_graph ("perceptual:distance", a, nan);
    expect_failure (&g, "NaN value at pixel (5, 6)", TRUE, NULL);
    g_object_unref (g.graph);
    g_object_unref (nan);
  }

  /* One finite but huge pixel: the network overflows, and the status says
   * so rather than "Compared".
   */
  {
    GeglBuffer *huge = gegl_buffer_dup (b);

    gegl_buffer_set (huge, GEGL_RECTANGLE (5, 6, 1, 1), 0, babl_format ("R'G'B'A float"),
                     (float[]) { 3e38f, 0.5f, 0.5f, 1.0f }, GEGL_AUTO_ROWSTRIDE);
    g = make_graph ("perceptual:distance", a, huge);
    expect_failure (&g, "the distance is not finite", TRUE, NULL);
    g_object_unref (g.graph);
    g_object_unref (huge);
  }

  g = make_graph ("perceptual:distance", a, b);
  gegl_node_set (g.op, "weights", corrupt, NULL);
  expect_failure (&g, "not a valid safetensors file", TRUE, a);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, warnings->len - 1), corrupt));
  gegl_node_set (g.op, "weights", missing, NULL);
  expect_failure (&g, "no such weights file", TRUE, a);
  gegl_node_set (g.op, "weights", "", "network", network ("vgg") /* not installed */, NULL);
  expect_failure (&g, "gegl-perceptual-fetch vgg --calibration lpips-v0.1", TRUE, a);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, warnings->len - 1), "no vgg model installed"));
  /* An alex model file given for squeeze. */
  {
    char *alex = g_build_filename (tmpdir, "alex-lpips-v0.1.safetensors", NULL);

    gegl_node_set (g.op, "weights", alex, "network", network ("squeeze"), NULL);
    expect_failure (&g, "holds a model of the alex network, but the network chosen is squeeze", TRUE, a);
    g_free (alex);
  }
  g_object_unref (g.graph);

  /* The heatmap with nothing to compare shows the reference as it is. */
  g = make_graph ("perceptual:heatmap", a, NULL);
  box = gegl_node_get_bounding_box (g.op);
  {
    gsize  n_px = (gsize) box.width * box.height * 4;
    float *got = g_new (float, n_px), *want = g_new (float, n_px);

    gegl_node_blit (g.op, 1.0, &box, babl_format ("R'G'B'A float"), got,
                    GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
    gegl_buffer_get (a, &box, 1.0, babl_format ("R'G'B'A float"), want,
                     GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    g_assert_cmpmem (got, n_px * 4, want, n_px * 4);
    g_assert_true (isnan (get_double (g.op, "distance")));
    g_free (got);
    g_free (want);
  }
  g_object_unref (g.graph);

  g_free (corrupt);
  g_free (missing);
  g_object_unref (tiny);
  g_object_unref (a);
  g_object_unref (b);
}

/* Different sizes and offsets: the overlap is compared, and equals the
 * comparison of the overlapping crops.
 */
static void
test_overlap (void)
{
  GeglBuffer   *a = golden_buffer ("image0", 1), *b = golden_buffer ("image1", 1);
  int           w = gegl_buffer_get_width (a), h = gegl_buffer_get_height (a);
  GeglRectangle part = { 3, 2, w - 5, h - 4 };
  GeglBuffer   *b_part = gegl_buffer_create_sub_buffer (b, &part);
  GeglBuffer   *a_part = gegl_buffer_create_sub_buffer (a, &part);
  GeglBuffer   *a_crop = gegl_buffer_dup (a_part);
  Graph         g = make_graph ("perceptual:distance", a, b_part);
  Graph         c = make_graph ("perceptual:distance", a_crop, b_part);
  GeglRectangle box, cbox;
  float        *map = render (&g, &box), *cmap = render (&c, &cbox);
  char         *status = get_status (g.op);

  g_assert_true (gegl_rectangle_equal (&box, gegl_buffer_get_extent (a)));
  g_assert_true (gegl_rectangle_equal (&cbox, &part));
  g_assert_cmpfloat (get_double (g.op, "distance"), ==, get_double (c.op, "distance"));
  g_assert_nonnull (strstr (status, "compared their overlap"));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gboolean inside = x >= part.x && x < part.x + part.width &&
                          y >= part.y && y < part.y + part.height;
        float    want = inside ? cmap[(y - part.y) * part.width + (x - part.x)] : 0;

        g_assert_cmpfloat (map[y * w + x], ==, want);
      }
  g_free (status);
  g_free (map);
  g_free (cmap);
  g_object_unref (g.graph);
  g_object_unref (c.graph);
  g_object_unref (b_part);
  g_object_unref (a_part);
  g_object_unref (a_crop);
  g_object_unref (a);
  g_object_unref (b);
}

/* Renders the op's Y float output over `box` in regions of `side` pixels,
 * in raster order or shuffled (seed > 0).
 */
static float *
render_regions (GeglNode *op, const GeglRectangle *box, int side, guint32 seed)
{
  int    nx = (box->width + side - 1) / side, ny = (box->height + side - 1) / side;
  int   *order = g_new (int, nx * ny);
  float *map = g_new (float, (gsize) box->width * box->height);
  GRand *rand = g_rand_new_with_seed (seed);

  for (int i = 0; i < nx * ny; i++)
    order[i] = i;
  for (int i = nx * ny - 1; seed && i > 0; i--)
    {
      int j = g_rand_int_range (rand, 0, i + 1), t = order[i];

      order[i] = order[j];
      order[j] = t;
    }
  for (int i = 0; i < nx * ny; i++)
    {
      GeglRectangle r = { box->x + order[i] % nx * side, box->y + order[i] / nx * side,
                          side, side };

      gegl_rectangle_intersect (&r, &r, box);
      gegl_node_blit (op, 1.0, &r, babl_format ("Y float"),
                      map + (gsize) (r.y - box->y) * box->width + (r.x - box->x),
                      box->width * sizeof (float), GEGL_BLIT_DEFAULT);
    }
  g_rand_free (rand);
  g_free (order);
  return map;
}

/* Block by block: for several block sizes, request orders and numbers of
 * GEGL threads, the map and the distance of the whole-image computation;
 * the heatmap the same each time; a region computes only its blocks.
 */
static void
test_blocks (void)
{
  const int     w = 613, h = 419;
  GeglBuffer   *a = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h), babl_format ("R'G'B'A float"));
  GeglBuffer   *b = gegl_buffer_new (GEGL_RECTANGLE (0, 0, w, h), babl_format ("R'G'B'A float"));
  float        *px = g_new (float, (gsize) w * h * 4), *rgb[2], *want, *heat0 = NULL;
  char         *path = g_build_filename (tmpdir, "squeeze-lpips-v0.1.safetensors", NULL);
  PercModel    *model = perc_model_load (path, test_microkernel (), NULL);
  PercMetric    metric = { PERC_CALIBRATION_LPIPS_V0_1, PERC_DISTANCE_SPATIAL, 0 };
  Comparer     *cmp = comparer_new (model);
  PercDistance  whole = { 0 };
  static const char *const sides[] = { "96", "256", "512" };
  static const int threads[] = { 1, 2, 8 };
  int           saved;

  for (int k = 0; k < 2; k++)
    {
      rgb[k] = g_new (float, (gsize) w * h * 3);
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          for (int c = 0; c < 4; c++)
            {
              float v = c == 3 ? 1.0f : 0.5f + 0.4f * sinf (x * 0.043f + c) * cosf (y * 0.029f - c) +
                                        (k && (x / 41 + y / 29) % 4 == 0 ? 0.08f : 0.0f);

              px[((gsize) y * w + x) * 4 + c] = v;
              if (c < 3)
                rgb[k][((gsize) y * w + x) * 3 + c] = v;
            }
      gegl_buffer_set (k ? b : a, NULL, 0, babl_format ("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE);
    }
  g_assert_true (comparer_run (cmp, &metric, &(PercImage) { w, h, 3 * (gsize) w, rgb[0] },
                               &(PercImage) { w, h, 3 * (gsize) w, rgb[1] }, &whole, NULL));
  want = g_new (float, (gsize) w * h);
  spatial_map (&whole, w, h, want);

  g_object_get (gegl_config (), "threads", &saved, NULL);
  for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
    for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
      for (guint32 order = 0; order < 2; order++)
        {
          Graph         g = make_graph ("perceptual:distance", a, b);
          Graph         hm = make_graph ("perceptual:heatmap", a, b);
          GeglRectangle box = { 0, 0, w, h };
          float        *map, *heat = g_new (float, (gsize) w * h * 4);
          double        d;
          int           compares = n_compares;

          blocks_computed = 0;

          g_setenv ("GEGL_PERCEPTUAL_BLOCK", sides[s], TRUE);
          g_object_set (gegl_config (), "threads", threads[t], NULL);
          /* Requests of 100 pixels: one of 512 computes one block. */
          map = render_regions (g.op, &box, order ? 100 : w, order + 1);
          d = get_double (g.op, "distance");
          if (g_test_verbose ())
            g_printerr ("  block %s, %d threads, %s: distance %.9f (whole %.9f), map diff %.3g, "
                        "%d process calls\n", sides[s], threads[t], order ? "shuffled" : "at once",
                        d, whole.distance, max_abs_diff (map, want, (gsize) w * h),
                        n_compares - compares);
          g_assert_cmpfloat (max_abs_diff (map, want, (gsize) w * h), <=, 1e-6);
          g_assert_cmpfloat (fabs (d - whole.distance), <=, 1e-6);
          /* Each block once: the distance came from the blocks. */
          {
            int side = perc_tiled_align (model, atoi (sides[s]));

            g_assert_cmpint (blocks_computed, ==,
                             ((w + side - 1) / side) * ((h + side - 1) / side));
          }
          gegl_node_blit (hm.op, 1.0, &box, babl_format ("R'G'B'A float"), heat,
                          GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
          /* The maps differ by rounding between block sizes. */
          if (heat0)
            g_assert_cmpfloat (max_abs_diff (heat, heat0, (gsize) w * h * 4), <=, 1e-5);
          else
            heat0 = g_steal_pointer (&heat);
          g_free (heat);
          g_free (map);
          g_object_unref (g.graph);
          g_object_unref (hm.graph);
        }

  /* One block asked for while GEGL's threads are busy (as from inside a
   * threaded op) uses the one thread GEGL gives it; otherwise two.
   */
  g_setenv ("GEGL_PERCEPTUAL_BLOCK", "512", TRUE);
  g_object_set (gegl_config (), "threads", 2, NULL);
  for (int busy = 0; busy < 2; busy++)
    {
      Graph   g = make_graph ("perceptual:distance", a, b);
      Request r = { g.op, { 40, 30, 100, 100 }, g_new (float, 100 * 100) };
      int     before[2] = { lone_blocks[0], lone_blocks[1] };

      if (busy)
        gegl_parallel_distribute (2, render_in_thread_0, &r);
      else
        render_in_thread_0 (0, 1, &r);
      g_assert_cmpint (lone_blocks[0] - before[0], ==, busy);
      g_assert_cmpint (lone_blocks[1] - before[1], ==, !busy);
      for (int y = 0; y < r.box.height; y++)
        g_assert_cmpfloat (max_abs_diff (r.map + y * r.box.width,
                                         want + (gsize) (r.box.y + y) * w + r.box.x,
                                         r.box.width), <=, 1e-6);
      g_free (r.map);
      g_object_unref (g.graph);
    }
  g_unsetenv ("GEGL_PERCEPTUAL_BLOCK");
  g_object_set (gegl_config (), "threads", saved, NULL);
  for (int k = 0; k < 2; k++)
    g_free (rgb[k]);
  g_free (want);
  g_free (heat0);
  g_free (px);
  g_free (path);
  perc_distance_clear (&whole);
  comparer_free (cmp);
  perc_model_free (model);
  g_object_unref (a);
  g_object_unref (b);
}

/* The heatmap's look changes without running the network again. */
static void
test_recolour (void)
{
  GeglBuffer   *a = golden_buffer ("image0", 1), *b = golden_buffer ("image1", 1);
  Graph         g = make_graph ("perceptual:heatmap", a, b);
  GeglRectangle box = gegl_node_get_bounding_box (g.op);
  gsize         n = (gsize) box.width * box.height * 4;
  float        *before = g_new (float, n), *after = g_new (float, n);
  int           compares;
  struct { const char *name; GValue value; } changes[] = {
    { "colormap", G_VALUE_INIT }, { "opacity", G_VALUE_INIT },
    { "range-max", G_VALUE_INIT }, { "auto-range", G_VALUE_INIT } };

  g_value_init (&changes[0].value, g_type_from_name ("PerceptualColormapName"));
  g_value_set_enum (&changes[0].value, PERCEPTUAL_COLORMAP_VIRIDIS);
  g_value_init (&changes[1].value, G_TYPE_DOUBLE);
  g_value_set_double (&changes[1].value, 0.3);
  g_value_init (&changes[2].value, G_TYPE_DOUBLE);
  g_value_set_double (&changes[2].value, 0.2);
  g_value_init (&changes[3].value, G_TYPE_BOOLEAN);
  g_value_set_boolean (&changes[3].value, TRUE);
  gegl_node_blit (g.op, 1.0, &box, babl_format ("R'G'B'A float"), before,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  compares = n_compares;
  g_assert_cmpint (compares, >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (changes); i++)
    {
      gegl_node_set_property (g.op, changes[i].name, &changes[i].value);
      gegl_node_blit (g.op, 1.0, &box, babl_format ("R'G'B'A float"), after,
                      GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
      g_assert_cmpint (n_compares, ==, compares);
      g_assert_true (memcmp (before, after, n * sizeof (float)));
      memcpy (before, after, n * sizeof (float));
      g_value_unset (&changes[i].value);
    }
  /* The distance too comes from the map's blocks. */
  g_assert_cmpfloat (fabs (get_double (g.op, "distance") -
                           json_object_get_double_member (golden, "distance")), <=, 1e-5);
  g_assert_cmpint (n_compares, ==, compares);
  g_free (before);
  g_free (after);
  g_object_unref (g.graph);
  g_object_unref (a);
  g_object_unref (b);
}

/* On the fixed scale a distance has one colour in every map; a distance
 * of 0 leaves the image as it is.  The automatic range stretches each
 * map to its own largest value.
 */
static void
test_fixed_scale (void)
{
  GeglBuffer *image = golden_buffer ("image0", 1);
  GeglRectangle box = *gegl_buffer_get_extent (image);
  gsize       n = (gsize) box.width * box.height;
  float      *out[2][2];

  for (int auto_range = 0; auto_range < 2; auto_range++)
    for (int k = 0; k < 2; k++)
      {
        GeglBuffer *map = gegl_buffer_new (&box, babl_format ("Y float"));
        float      *values = g_new (float, n);
        Graph       g = make_graph ("perceptual:distance-overlay", image, map);

        /* 0 in the first row, 0.1 in the left half, 0.2 or 0.45 in the right. */
        for (gsize i = 0; i < n; i++)
          values[i] = i < (gsize) box.width ? 0.0f :
                      (int) (i % box.width) < box.width / 2 ? 0.1f : k ? 0.45f : 0.2f;
        gegl_buffer_set (map, NULL, 0, babl_format ("Y float"), values, GEGL_AUTO_ROWSTRIDE);
        gegl_node_set (g.op, "auto-range", auto_range, NULL);
        out[auto_range][k] = g_new (float, n * 4);
        gegl_node_blit (g.op, 1.0, &box, babl_format ("R'G'B'A float"), out[auto_range][k],
                        GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
        g_object_unref (g.graph);
        g_object_unref (map);
        g_free (values);
      }
  {
    float *want = g_new (float, (gsize) box.width * 4);
    gsize  left = (gsize) (box.width + 1) * 4;     /* a pixel of 0.1 */

    gegl_buffer_get (image, GEGL_RECTANGLE (box.x, box.y, box.width, 1), 1.0,
                     babl_format ("R'G'B'A float"), want, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    for (int k = 0; k < 2; k++)
      g_assert_cmpmem (out[0][k], (gsize) box.width * 4 * sizeof (float),
                       want, (gsize) box.width * 4 * sizeof (float));
    g_assert_cmpmem (out[0][0] + left, 4 * sizeof (float), out[0][1] + left, 4 * sizeof (float));
    g_assert_true (memcmp (out[1][0] + left, out[1][1] + left, 4 * sizeof (float)));
    g_free (want);
  }
  for (int i = 0; i < 4; i++)
    g_free (out[i / 2][i % 2]);
  g_object_unref (image);
}

/* The real weights: the official LPIPS values for the example images. */
static void
test_real_weights (void)
{
  const char *mirror = g_getenv ("GEGL_PERCEPTUAL_WEIGHTS_MIRROR");
  char       *shared, *model, *convert, *backbone, *lin, *json;
  JsonParser *ref;
  JsonArray  *examples;
  GError     *error = NULL;
  int         status;

  if (!mirror || !*mirror || !g_file_test (mirror, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("the real weights are not available; set "
                   "GEGL_PERCEPTUAL_WEIGHTS_MIRROR (or meson -Dweights_mirror=)");
      return;
    }
  shared = g_path_get_dirname (mirror);
  model = g_build_filename (tmpdir, "real.safetensors", NULL);
  convert = g_test_build_filename (G_TEST_DIST, "..", "weights", "convert", NULL);
  backbone = g_build_filename (mirror, "torchvision", "squeezenet1_1-features.pth", NULL);
  lin = g_build_filename (mirror, "lpips", "v0.1", "squeeze.pth", NULL);
  g_spawn_sync (NULL, (char *[]) { (char *) g_getenv ("PYTHON3"), convert, "--network", "squeeze",
                                   "--backbone", backbone, "--calibration", lin,
                                   "--lpips-version", "0.1", "-o", model, NULL },
                NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  json = g_build_filename (shared, "reference", "lpips-squeeze-v0.1-examples.json", NULL);
  ref = json_parser_new ();
  json_parser_load_from_file (ref, json, &error);
  g_assert_no_error (error);
  examples = json_node_get_array (json_parser_get_root (ref));
  g_assert_cmpuint (json_array_get_length (examples), ==, 4);
  for (guint i = 0; i < json_array_get_length (examples); i++)
    {
      JsonObject   *e = json_array_get_object_element (examples, i);
      char         *a = g_build_filename (shared, "images", "lpips-examples",
                                          json_object_get_string_member (e, "ref"), NULL);
      char         *b = g_build_filename (shared, "images", "lpips-examples",
                                          json_object_get_string_member (e, "dist"), NULL);
      GeglNode     *graph = gegl_node_new ();
      GeglNode     *la = gegl_node_new_child (graph, "operation", "gegl:load", "path", a, NULL);
      GeglNode     *lb = gegl_node_new_child (graph, "operation", "gegl:load", "path", b, NULL);
      GeglNode     *op = gegl_node_new_child (graph, "operation", "perceptual:distance",
                                              "weights", model, NULL);
      Graph         g = { graph, op };
      GeglRectangle box;
      double        d;

      perceptual_connect (la, op, "input");
      perceptual_connect (lb, op, "aux");
      g_free (render (&g, &box));
      d = get_double (op, "distance");
      if (g_test_verbose ())
        g_printerr ("  %s: %.8f, reference %.8f\n", json_object_get_string_member (e, "name"),
                    d, json_object_get_double_member (e, "lpips"));
      g_assert_cmpfloat (fabs (d - json_object_get_double_member (e, "lpips")), <=, 1e-5);
      g_object_unref (graph);
      g_free (a);
      g_free (b);
    }
  g_object_unref (ref);
  g_free (json);
  g_free (lin);
  g_free (backbone);
  g_free (convert);
  g_free (model);
  g_free (shared);
}

static double
relative_error (double got, double want)
{
  return fabs (got - want) / MAX (fabs (want), 1e-12);
}

/* ResNets, the layer subset and the distance functions through the ops. */
static void
test_study (void)
{
  GeglBuffer   *a = case_buffer (study, "image0", 1), *b = case_buffer (study, "image1", 1);
  Graph         g = make_graph ("perceptual:distance", a, b);
  GeglRectangle box;
  float        *map;
  char         *status, *custom;
  gsize         n = (gsize) json_object_get_int_member (study, "width") *
                    json_object_get_int_member (study, "height");

  /* ResNet-18, its default (unweighted) calibration and stages. */
  gegl_node_set (g.op, "network", network ("resnet18"), NULL);
  map = render (&g, &box);
  g_assert_cmpfloat (relative_error (get_double (g.op, "distance"),
                                     json_object_get_double_member (study, "distance")), <=, 1e-5);
  assert_map (map, json_object_get_array_member (study, "spatial"), n);
  g_free (map);

  /* All five layers: the stem too. */
  gegl_node_set (g.op, "layer-subset", "1,2,3,4,5", NULL);
  map = render (&g, &box);
  assert_map (map, json_object_get_array_member (study, "spatial_all_taps"), n);
  g_free (map);

  /* Mean-pool: a distance, no map, and the status says so. */
  gegl_node_set (g.op, "layer-subset", "", "distance-function", PERCEPTUAL_DISTANCE_MEAN_POOL, NULL);
  map = render (&g, &box);
  g_assert_cmpfloat (relative_error (get_double (g.op, "distance"),
                                     json_object_get_double_member (study, "mean_pool_distance")),
                     <=, 1e-5);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (map[i], ==, 0);
  status = get_status (g.op);
  g_assert_nonnull (strstr (status, "mean-pool distance compares whole layers: it has no map"));
  g_free (status);
  g_free (map);
  g_object_unref (g.graph);

  /* Style through the heatmap: the reference, unpainted. */
  g = make_graph ("perceptual:heatmap", a, b);
  gegl_node_set (g.op, "network", network ("resnet18"),
                 "distance-function", PERCEPTUAL_DISTANCE_STYLE, NULL);
  {
    float *rgba = g_new (float, n * 4), *ref = g_new (float, n * 4);

    box = gegl_node_get_bounding_box (g.op);
    gegl_node_blit (g.op, 1.0, &box, babl_format ("R'G'B'A float"), rgba,
                    GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
    gegl_buffer_get (a, &box, 1.0, babl_format ("R'G'B'A float"), ref,
                     GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    g_assert_cmpmem (rgba, n * 4 * sizeof (float), ref, n * 4 * sizeof (float));
    g_free (rgba);
    g_free (ref);
  }
  g_assert_cmpfloat (relative_error (get_double (g.op, "distance"),
                                     json_object_get_double_member (study, "style_distance")),
                     <=, 1e-5);
  g_object_unref (g.graph);

  /* The stem's difference image at its own resolution. */
  g = make_graph ("perceptual:layer-difference", a, b);
  gegl_node_set (g.op, "network", network ("resnet18"), "layer", 5,
                 "layer-resolution", TRUE, NULL);
  map = render (&g, &box);
  assert_map (map, json_array_get_array_element (json_object_get_array_member (study, "layer_maps"), 4),
              (gsize) box.width * box.height);
  g_assert_cmpfloat (relative_error (get_double (g.op, "term"),
                                     json_array_get_double_element (
                                       json_object_get_array_member (study, "layers"), 4)), <=, 1e-5);
  g_free (map);
  g_object_unref (g.graph);
  g_object_unref (a);
  g_object_unref (b);

  /* A custom ResNet, described by its file alone. */
  custom = synth_resnet (tmpdir, "resnet6", "basic", "1,1", "unweighted", 13);
  a = case_buffer (study_custom, "image0", 1);
  b = case_buffer (study_custom, "image1", 1);
  g = make_graph ("perceptual:distance", a, b);
  gegl_node_set (g.op, "network", network ("file"), "weights", custom, NULL);
  g_free (render (&g, &box));
  g_assert_cmpfloat (relative_error (get_double (g.op, "distance"),
                                     json_object_get_double_member (study_custom, "distance")),
                     <=, 1e-5);

  /* Choices that cannot work say why. */
  gegl_node_set (g.op, "layer-subset", "4", NULL);
  expect_failure (&g, "not a list of layer numbers from 1 to 3 for resnet6", TRUE, a);
  gegl_node_set (g.op, "layer-subset", "", "weights", "", NULL);
  expect_failure (&g, "no weights file is given", TRUE, a);
  gegl_node_set (g.op, "network", PERCEPTUAL_NETWORK_SQUEEZE,
                 "distance-function", PERCEPTUAL_DISTANCE_STYLE, NULL);
  expect_failure (&g, "the style distance has no calibrated weights: use the unweighted "
                      "calibration", TRUE, a);
  g_object_unref (g.graph);
  g_object_unref (a);
  g_object_unref (b);
  g_free (custom);
}

int
main (int argc, char **argv)
{
  char   *path, *dest;
  GError *error = NULL;
  int     status;
  static const struct { const char *net, *cal; int seed; } models[] = {
    { "squeeze", "lpips-v0.1", 1 }, { "alex", "lpips-v0.1", 5 },
    { "resnet18", "unweighted", 11 },
  };

  tmpdir = test_setup (&argc, &argv);
  /* The installed models, as the ops find them. */
  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      path = synth_resnet (tmpdir, models[i].net, NULL, NULL, models[i].cal, models[i].seed);
      dest = g_strdup_printf ("%s/%s-%s.safetensors", tmpdir, models[i].net, models[i].cal);
      g_rename (path, dest);
      g_free (path);
      g_free (dest);
    }
  g_setenv ("GEGL_PERCEPTUAL_WEIGHTS_PATH", tmpdir, TRUE);

  warnings = g_ptr_array_new_with_free_func (g_free);
  g_log_set_handler ("perceptual", G_LOG_LEVEL_MASK, log_handler, NULL);
  /* The ops' warnings for users are GEGL messages, which GIMP shows. */
  g_log_set_handler ("GEGL", G_LOG_LEVEL_MESSAGE, log_handler, NULL);
  /* The ops' warnings are expected here, and checked. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  gegl_init (&argc, &argv);

  path = g_test_build_filename (G_TEST_DIST, "goldens", "goldens.json", NULL);
  parser = json_parser_new ();
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  golden = json_array_get_object_element (
             json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                           "cases"), 0);
  g_assert_cmpstr (json_object_get_string_member (golden, "network"), ==, "squeeze");
  g_assert_cmpint (json_object_get_int_member (golden, "seed"), ==, 1);
  golden_alex = json_array_get_object_element (
                  json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                                "cases"), 4);
  g_assert_cmpstr (json_object_get_string_member (golden_alex, "network"), ==, "alex");
  g_assert_cmpint (json_object_get_int_member (golden_alex, "seed"), ==, 5);

  g_free (path);
  path = g_test_build_filename (G_TEST_DIST, "goldens", "resnet.json", NULL);
  study_parser = json_parser_new ();
  json_parser_load_from_file (study_parser, path, &error);
  g_assert_no_error (error);
  {
    JsonArray *cases = json_object_get_array_member (
                         json_node_get_object (json_parser_get_root (study_parser)), "cases");

    study = json_array_get_object_element (cases, 0);
    study_custom = json_array_get_object_element (cases, 2);
  }
  g_assert_cmpstr (json_object_get_string_member (study, "network"), ==, "resnet18");
  g_assert_cmpint (json_object_get_int_member (study, "seed"), ==, 11);
  g_assert_cmpstr (json_object_get_string_member (study_custom, "network"), ==, "resnet6");

  g_test_add_func ("/ops/distance", test_distance);
  g_test_add_func ("/ops/alpha-ignored", test_alpha_ignored);
  g_test_add_func ("/ops/layer-difference", test_layer_difference);
  g_test_add_func ("/ops/shared-model", test_shared_model);
  g_test_add_func ("/ops/superseded-model", test_superseded_model);
  g_test_add_func ("/ops/failures", test_failures);
  g_test_add_func ("/ops/overlap", test_overlap);
  g_test_add_func ("/ops/blocks", test_blocks);
  g_test_add_func ("/ops/recolour", test_recolour);
  g_test_add_func ("/ops/fixed-scale", test_fixed_scale);
  g_test_add_func ("/ops/study", test_study);
  g_test_add_func ("/ops/real-weights", test_real_weights);
  status = g_test_run ();

  g_object_unref (parser);
  g_object_unref (study_parser);
  g_ptr_array_free (warnings, TRUE);
  gegl_exit ();
  g_free (path);
  return status;
}
