#include "perc-error.h"
#include "perc-features.h"
#include "perc-pool.h"

struct _PercExtractor
{
  const PercModel *model;
  PercShape       *shapes;     /* per buffer, for the current input */
  float          **buffers;    /* per buffer; taps point into features */
  gsize           *capacity;
  float           *scratch;
  gsize            scratch_capacity;
  int              threads;    /* BLIS threads per product; 0: BLIS's */
};

/* Grows *buffer to hold n floats; contents are not kept. */
static float *
reserve (float **buffer,
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
  ex->capacity = g_new0 (gsize, n);
  return ex;
}

void
perc_extractor_set_threads (PercExtractor *ex,
                            int            threads)
{
  ex->threads = MAX (threads, 0);
}

void
perc_extractor_free (PercExtractor *ex)
{
  if (!ex)
    return;
  for (int i = 0; i < ex->model->net->n_buffers; i++)
    g_free (ex->buffers[i]);
  g_free (ex->buffers);
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

/* Points every buffer at memory of its size for the current input: taps
 * live in `features`, the rest in the extractor.
 */
static void
allocate (PercExtractor *ex,
          PercFeatures  *features)
{
  const PercNet *net = ex->model->net;
  gsize          scratch = 0;

  for (int i = 0; i < net->n_buffers; i++)
    {
      gsize n = (gsize) ex->shapes[i].c * ex->shapes[i].h * ex->shapes[i].w;
      int   t = tap_index (net, i);

      if (t >= 0)
        {
          reserve (&features->data[t], &features->capacity[t], n);
          features->shapes[t] = ex->shapes[i];
        }
      else
        reserve (&ex->buffers[i], &ex->capacity[i], n);
    }
  features->n_taps = net->n_taps;

  for (int i = 0; i < net->n_ops; i++)
    if (net->ops[i].kind == PERC_OP_CONV)
      {
        const PercShape *s = &ex->shapes[net->ops[i].src];

        scratch = MAX (scratch, perc_conv_scratch_size (&ex->model->convs[i],
                                                        s->h, s->w));
      }
  reserve (&ex->scratch, &ex->scratch_capacity, MAX (scratch, 1));
}

static float *
buffer (PercExtractor *ex,
        PercFeatures  *features,
        int            index)
{
  int t = tap_index (ex->model->net, index);

  return t >= 0 ? features->data[t] : ex->buffers[index];
}

static gsize
network_bytes (const PercModel *model,
               int              width,
               int              height,
               gboolean         taps_only)
{
  const PercNet *net = model->net;
  PercShape     *shapes = g_new (PercShape, net->n_buffers);
  gsize          n = 0, scratch = 0;

  if (perc_net_shapes (net, width, height, shapes))
    {
      for (int i = 0; i < net->n_buffers; i++)
        if (!taps_only || tap_index (net, i) >= 0)
          n += (gsize) shapes[i].c * shapes[i].h * shapes[i].w;
      for (int i = 0; !taps_only && i < net->n_ops; i++)
        if (net->ops[i].kind == PERC_OP_CONV)
          scratch = MAX (scratch, perc_conv_scratch_size (&model->convs[i],
                                                          shapes[net->ops[i].src].h,
                                                          shapes[net->ops[i].src].w));
    }
  g_free (shapes);
  return (n + scratch) * sizeof (float);
}

gsize
perc_extractor_bytes (const PercModel *model,
                      int              width,
                      int              height)
{
  return network_bytes (model, width, height, FALSE);
}

gsize
perc_features_bytes (const PercModel *model,
                     int              width,
                     int              height)
{
  return network_bytes (model, width, height, TRUE);
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

gboolean
perc_extractor_run (PercExtractor   *ex,
                    const PercImage *image,
                    gboolean         scaling,
                    PercFeatures    *features,
                    GError         **error)
{
  const PercModel *model = ex->model;
  const PercNet   *net = model->net;

  if (image->width < model->min_size || image->height < model->min_size)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
                   "the image is %dx%d pixels; the %s network needs at least "
                   "%dx%d", image->width, image->height, net->name,
                   model->min_size, model->min_size);
      return FALSE;
    }
  if (!perc_image_check (image, error))
    return FALSE;

  perc_net_shapes (net, image->width, image->height, ex->shapes);
  allocate (ex, features);
  perc_image_to_input (image, scaling, buffer (ex, features, 0));

  for (int i = 0; i < net->n_ops; i++)
    {
      const PercOp    *op = &net->ops[i];
      const PercShape *in = &ex->shapes[op->src], *out = &ex->shapes[op->dst];
      const float     *src = buffer (ex, features, op->src);
      float           *dst = buffer (ex, features, op->dst);

      if (op->kind == PERC_OP_CONV)
        perc_conv_forward (&model->convs[i], src, in->h, in->w,
                           dst + (gsize) op->dst_channel * out->h * out->w,
                           ex->scratch, ex->threads);
      else if (op->kind == PERC_OP_ADD)
        add (src, buffer (ex, features, op->src2),
             (gsize) out->c * out->h * out->w, op->relu, dst);
      else
        perc_maxpool (src, in->c, in->h, in->w, op->kernel, op->stride,
                      op->pad, dst, out->h, out->w);
    }
  return TRUE;
}
