#include <math.h>
#include <glib/gi18n-lib.h>

#include "perc-error.h"
#include "run/perc-features.h"
#include "ops/perc-conv.h"
#include "ops/perc-maxpool.h"

/* Multiply-adds per op and image below which a hand-over between threads
 * per op costs more than fuller panels save (SqueezeNet's ops at 64 x 64:
 * about 1M, its split ops 20 % slower than the images side by side).
 */
#define SPLIT_MIN_WORK 5e6

struct _PercExtractor
{
  const PercModel *model;
  PercShape       *shapes;     /* per buffer, for the current input */
  float          **buffers;    /* per buffer but the taps, which live in features */
  float          **views;      /* per buffer: where it is for this run */
  gsize           *capacity;
  float           *scratch;
  gsize            scratch_capacity;
};

float *
perc_reserve (float **buffer,
              gsize  *capacity,
              gsize   n)
{
  if (n > *capacity)
    {
      g_free (*buffer);
      *buffer = g_new (float, n);
      *capacity = n;
    }
  return *buffer;
}

PercFeatures *
perc_features_new (void)
{
  return g_new0 (PercFeatures, 1);
}

void
perc_features_free (PercFeatures *features)
{
  if (!features)
    return;
  for (int i = 0; i < PERC_MAX_TAPS; i++)
    g_free (features->data[i]);
  g_free (features);
}

PercExtractor *
perc_extractor_new (const PercModel *model)
{
  PercExtractor *ex = g_new0 (PercExtractor, 1);
  int            n = model->net->n_buffers;

  ex->model = model;
  ex->shapes = g_new0 (PercShape, n);
  ex->buffers = g_new0 (float *, n);
  ex->views = g_new0 (float *, n);
  ex->capacity = g_new0 (gsize, n);
  return ex;
}

void
perc_extractor_free (PercExtractor *ex)
{
  if (!ex)
    return;
  for (int i = 0; i < ex->model->net->n_buffers; i++)
    g_free (ex->buffers[i]);
  g_free (ex->buffers);
  g_free (ex->views);
  g_free (ex->capacity);
  g_free (ex->shapes);
  g_free (ex->scratch);
  g_free (ex);
}

gboolean
perc_calibration_scales (PercCalibration calibration)
{
  return calibration != PERC_CALIBRATION_LPIPS_V0_0;
}

static int
tap_index (const PercNet *net,
           int            buffer)
{
  for (int t = 0; t < net->n_taps; t++)
    if (net->taps[t] == buffer)
      return t;
  return -1;
}

gsize
perc_network_scratch (const PercModel *model,
                      const PercShape *shapes)
{
  const PercNet *net = model->net;
  gsize          n = 0;

  for (int i = 0; i < net->n_ops; i++)
    if (net->ops[i].kind == PERC_OP_CONV)
      n = MAX (n, perc_conv_scratch_size (&model->convs[i], shapes[net->ops[i].src].h,
                                          shapes[net->ops[i].src].w));
  return n;
}

/* Points every buffer at memory of its size for the current input: taps
 * live in `features`, the rest in the extractor.
 */
static void
allocate (PercExtractor *ex,
          PercFeatures  *features)
{
  const PercNet *net = ex->model->net;

  for (int i = 0; i < net->n_buffers; i++)
    {
      gsize n = (gsize) ex->shapes[i].c * ex->shapes[i].h * ex->shapes[i].w;
      int   t = tap_index (net, i);

      if (t >= 0)
        {
          perc_reserve (&features->data[t], &features->capacity[t], n);
          features->shapes[t] = ex->shapes[i];
        }
      else
        perc_reserve (&ex->buffers[i], &ex->capacity[i], n);
    }
  features->n_taps = net->n_taps;
  perc_reserve (&ex->scratch, &ex->scratch_capacity,
           MAX (perc_network_scratch (ex->model, ex->shapes), 1));
}

static float *
buffer (PercExtractor *ex,
        PercFeatures  *features,
        int            index)
{
  int t = tap_index (ex->model->net, index);

  return t >= 0 ? features->data[t] : ex->buffers[index];
}

static void
add (const float *a,
     const float *b,
     gsize        n,
     gboolean     relu,
     float       *dst)
{
  for (gsize i = 0; i < n; i++)
    {
      float v = a[i] + b[i];

      dst[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

void
perc_network_part (const PercNet   *net,
                   int              i,
                   const PercShape *shapes,
                   int              part,
                   int              parts,
                   gsize           *first,
                   gsize           *end)
{
  const PercOp    *op = &net->ops[i];
  const PercShape *out = &shapes[op->dst];
  gsize            units = op->kind == PERC_OP_CONV ? (gsize) out->h * op->out_channels :
                           op->kind == PERC_OP_ADD ? (gsize) out->c * out->h * out->w :
                           (gsize) shapes[op->src].c;

  *first = units * part / parts;
  *end = units * (part + 1) / parts;
}

/* Lines [l0, l1), units [x0, x1) of each, of a convolution: lines are
 * rows and units channels, or the other way round.
 */
static void
conv_block (const PercConv  *conv,
            const PercShape *in,
            const float     *src,
            float           *dst,
            float           *scratch,
            gboolean         by_rows,
            gsize            l0,
            gsize            l1,
            gsize            x0,
            gsize            x1)
{
  if (l0 >= l1 || x0 >= x1)
    return;
  if (by_rows)
    perc_conv_forward_part (conv, src, in->h, in->w, dst, scratch, l0, l1, x0, x1);
  else
    perc_conv_forward_part (conv, src, in->h, in->w, dst, scratch, x0, x1, l0, l1);
}

/* Whether `parts` parts of a convolution go row by row: where every part
 * gets rows enough, so that each lowers or transforms only its own rows,
 * and the weights are no larger than the input, which each part then
 * reads whole.  Else channel by channel: on short outputs panels of
 * pixels stay full, and each part reads only its channels' weights
 * (VGG-16's 512-channel layers at 32 x 32 took 40 % longer in two parts
 * by rows than whole, 16 x 16 twice as long).
 */
static gboolean
conv_by_rows (const PercConv  *conv,
              const PercShape *in,
              const PercShape *out,
              int              parts)
{
  double weights = (double) conv->in_channels * conv->out_channels * conv->kernel * conv->kernel;

  return out->h >= 8 * parts && weights <= (double) in->c * in->h * in->w;
}

/* Units [u0, u1) of a convolution's output rows x channels, row by row or
 * channel by channel (conv_by_rows ()).  A part is then up to three
 * blocks: the end of a line, whole lines, the start of the next.
 */
static void
conv_part (const PercConv  *conv,
           const PercShape *in,
           const PercShape *out,
           const float     *src,
           float           *dst,
           float           *scratch,
           gsize            u0,
           gsize            u1,
           int              parts)
{
  gboolean by_rows = conv_by_rows (conv, in, out, parts);
  gsize    n = by_rows ? (gsize) conv->out_channels : (gsize) out->h;
  gsize    a = u0 / n, b = u1 / n, ra = u0 % n, rb = u1 % n;

  if (a == b)
    {
      conv_block (conv, in, src, dst, scratch, by_rows, a, a + 1, ra, rb);
      return;
    }
  conv_block (conv, in, src, dst, scratch, by_rows, a, a + 1, ra, ra ? n : 0);
  conv_block (conv, in, src, dst, scratch, by_rows, ra ? a + 1 : a, b, 0, n);
  conv_block (conv, in, src, dst, scratch, by_rows, b, b + 1, 0, rb);
}

void
perc_network_op (const PercModel *model,
                 int              i,
                 const PercShape *shapes,
                 float *const    *buffers,
                 float           *scratch,
                 int              part,
                 int              parts)
{
  const PercOp    *op = &model->net->ops[i];
  const PercShape *in = &shapes[op->src], *out = &shapes[op->dst];
  const float     *src = buffers[op->src];
  float           *dst = buffers[op->dst];
  gsize            plane = (gsize) out->h * out->w, u0, u1;

  perc_network_part (model->net, i, shapes, part, parts, &u0, &u1);
  if (op->kind == PERC_OP_CONV)
    conv_part (&model->convs[i], in, out, src, dst + op->dst_channel * plane, scratch, u0, u1,
               parts);
  else if (op->kind == PERC_OP_ADD)
    add (src + u0, buffers[op->src2] + u0, u1 - u0, op->relu, dst + u0);
  else
    perc_maxpool (src + u0 * in->h * in->w, u1 - u0, in->h, in->w, op->kernel, op->stride,
                  op->pad, dst + u0 * plane, out->h, out->w);
}

gboolean
perc_network_op_spans (const PercModel *model,
                       int              i,
                       const PercShape *shapes)
{
  const PercOp *op = &model->net->ops[i];

  return op->kind == PERC_OP_CONV &&
         perc_conv_spans_images (&model->convs[i], shapes[op->src].h, shapes[op->src].w);
}

/* Multiply-adds of convolution i's products for n images of `shapes`,
 * padded to whole panels of pixels: shared by the images where the op
 * spans them in a lowered product; a quarter of the direct product's in
 * Winograd's blocks, panels not counted.
 */
static double
padded_work (const PercModel *model,
             int              i,
             const PercShape *shapes,
             int              n)
{
  const PercOp    *op = &model->net->ops[i];
  const PercConv  *conv = &model->convs[i];
  const PercShape *in = &shapes[op->src], *out = &shapes[op->dst];
  const int        vp = conv->microkernel->pixels;
  double           per_pixel = (double) conv->in_channels * conv->out_channels *
                               conv->kernel * conv->kernel;
  double           pixels = (double) n * out->h * out->w;

  if (perc_conv_winograd_at (conv, in->h, in->w))
    return pixels * per_pixel / 4;
  if (perc_network_op_spans (model, i, shapes))
    pixels = ceil (pixels / vp) * vp;
  return pixels * per_pixel;
}

gboolean
perc_network_split_pays (const PercModel *model,
                         const PercShape *shapes)
{
  const PercNet *net = model->net;
  double         one = 0, two = 0;

  for (int i = 0; i < net->n_ops; i++)
    if (net->ops[i].kind == PERC_OP_CONV)
      {
        one += padded_work (model, i, shapes, 1);
        two += padded_work (model, i, shapes, 2);
      }
  return 8 * two <= 7 * 2 * one && one >= SPLIT_MIN_WORK * net->n_ops;
}

/* Part `part` of `parts` of op i of n images of one size in one product
 * where the op spans them and its parts go channel by channel
 * (conv_part ()): the part's whole channels of all images at once, the
 * rows of the channels it shares with the parts beside it image by image.
 * FALSE, having done nothing, where the op does not span the images.
 */
static gboolean
images_part (const PercModel     *model,
             int                  i,
             const PercShape     *shapes,
             float *const *const *views,
             int                  n,
             float               *scratch,
             int                  part,
             int                  parts)
{
  const PercOp    *op = &model->net->ops[i];
  const PercConv  *conv = &model->convs[i];
  const PercShape *in = &shapes[op->src];
  const int        h = shapes[op->dst].h;
  const gsize      plane = (gsize) h * shapes[op->dst].w;
  const float     *src[64];
  float           *dst[64];
  gsize            u0, u1;
  int              a, b;

  if (!perc_network_op_spans (model, i, shapes) ||
      (parts > 1 && conv_by_rows (conv, in, &shapes[op->dst], parts)))
    return FALSE;
  perc_network_part (model->net, i, shapes, part, parts, &u0, &u1);
  a = (int) ((u0 + h - 1) / h);
  b = (int) (u1 / h);
  /* G_N_ELEMENTS (src) images at a time. */
  for (int k = 0; k < n && a < b; k += G_N_ELEMENTS (src))
    {
      int m = MIN (n - k, (int) G_N_ELEMENTS (src));

      for (int j = 0; j < m; j++)
        {
          src[j] = views[k + j][op->src];
          dst[j] = views[k + j][op->dst] + op->dst_channel * plane;
        }
      perc_conv_forward_images (conv, src, m, in->h, in->w, dst, scratch, a, b);
    }
  for (int k = 0; k < n; k++)
    {
      const float *s = views[k][op->src];
      float       *d = views[k][op->dst] + op->dst_channel * plane;

      if (a > b)
        perc_conv_forward_part (conv, s, in->h, in->w, d, scratch, u0 % h, u1 % h, b, b + 1);
      else
        {
          if (u0 % h)
            perc_conv_forward_part (conv, s, in->h, in->w, d, scratch, u0 % h, h, a - 1, a);
          if (u1 % h)
            perc_conv_forward_part (conv, s, in->h, in->w, d, scratch, 0, u1 % h, b, b + 1);
        }
    }
  return TRUE;
}

void
perc_network_op_images (const PercModel     *model,
                        int                  i,
                        const PercShape     *shapes,
                        float *const *const *views,
                        int                  n,
                        float               *scratch,
                        int                  part,
                        int                  parts)
{
  if (images_part (model, i, shapes, views, n, scratch, part, parts))
    return;
  for (int k = 0; k < n; k++)
    perc_network_op (model, i, shapes, views[k], scratch, part, parts);
}

/* The checks every run makes before the network sees an image. */
gboolean
perc_features_check_input (const PercModel *model,
                           const PercImage *image,
                           GError         **error)
{
  if (!perc_model_check_size (model, image->width, image->height, error))
    return FALSE;
  return perc_image_check (image, error);
}

gboolean
perc_extractor_run_batch (PercExtractor   *const *extractors,
                          const PercImage        *images,
                          int                     n,
                          gboolean                scaling,
                          PercFeatures    *const *features,
                          GError                **error)
{
  const PercNet  *net = extractors[0]->model->net;
  float *const  **views;

  g_return_val_if_fail (n > 0, FALSE);
  for (int k = 0; k < n; k++)
    if (!perc_features_check_input (extractors[k]->model, &images[k], error))
      return FALSE;
  for (int k = 0; k < n; k++)
    {
      PercExtractor *ex = extractors[k];

      g_return_val_if_fail (ex->model == extractors[0]->model, FALSE);
      perc_net_shapes (net, images[k].width, images[k].height, ex->shapes);
      allocate (ex, features[k]);
      for (int i = 0; i < net->n_buffers; i++)
        ex->views[i] = buffer (ex, features[k], i);
      perc_image_to_input (&images[k], scaling, ex->views[0]);
    }
  views = g_new (float *const *, n);
  for (int k = 0; k < n; k++)
    views[k] = extractors[k]->views;
  /* Images of one size side by side share products. */
  for (int i = 0; i < net->n_ops; i++)
    for (int k = 0, m; k < n; k += m)
      {
        for (m = 1; k + m < n && images[k + m].width == images[k].width &&
                    images[k + m].height == images[k].height; m++)
          ;
        perc_network_op_images (extractors[k]->model, i, extractors[k]->shapes, views + k, m,
                                extractors[k]->scratch, 0, 1);
      }
  g_free (views);
  return TRUE;
}

gboolean
perc_extractor_run (PercExtractor   *ex,
                    const PercImage *image,
                    gboolean         scaling,
                    PercFeatures    *features,
                    GError         **error)
{
  return perc_extractor_run_batch (&ex, image, 1, scaling, &features, error);
}
