/* Loading a model file: a safetensors file whose metadata names the
 * network and calibration.  Every tensor is checked against the network
 * description: names, dtype, shapes, finite values, and no extra tensors.
 */
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "perc-error.h"
#include "model/perc-model.h"
#include "model/perc-safetensors.h"
#include "ops/perc-conv.h"

#define FORMAT "gegl-perceptual-model"
#define FORMAT_VERSION "1"
#define PERC_BATCH_NORM_EPSILON 1e-5     /* torchvision's */

#define model_error(error, path, ...) \
  perc_error_set (error, PERC_ERROR_MODEL, path, __VA_ARGS__)

static char *
shape_string (const gint64 *shape,
              int           rank)
{
  GString *s = g_string_new ("[");

  for (int i = 0; i < rank; i++)
    g_string_append_printf (s, i ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                            shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* Copies tensor `name` of exactly `shape` into dst (float32, finite). */
static gboolean
take_tensor (const PercSafetensors *st,
             const char            *name,
             const gint64          *shape,
             int                    rank,
             float                 *dst,
             GHashTable            *used,
             GError               **error)
{
  const char           *path = perc_safetensors_get_path (st);
  const PercTensorView *t = perc_safetensors_lookup (st, name);
  gboolean              same = t && t->rank == rank;

  if (!t)
    return model_error (error, path, _("tensor \"%s\" is missing"), name);
  if (t->dtype != PERC_DTYPE_F32)
    return model_error (error, path, _("tensor \"%s\" is %s, not F32"),
                        name, perc_dtype_name (t->dtype));
  for (int i = 0; same && i < rank; i++)
    same = t->shape[i] == shape[i];
  if (!same)
    {
      char *want = shape_string (shape, rank), *got = shape_string (t->shape, t->rank);

      model_error (error, path, _("tensor \"%s\" has shape %s, the network needs %s"),
                   name, got, want);
      g_free (want);
      g_free (got);
      return FALSE;
    }
  /* The data may be unaligned, and is little-endian. */
  memcpy (dst, t->data, t->n_bytes);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  for (gint64 i = 0; i < t->n_elements; i++)
    {
      guint32 v;
      memcpy (&v, dst + i, 4);
      v = GUINT32_SWAP_LE_BE (v);
      memcpy (dst + i, &v, 4);
    }
#endif
  for (gint64 i = 0; i < t->n_elements; i++)
    if (!isfinite (dst[i]))
      return model_error (error, path, _("tensor \"%s\" has a non-finite value"), name);
  g_hash_table_add (used, (gpointer) t->name);
  return TRUE;
}

static gsize
model_size (const PercNet *net,
            gboolean       with_lin)
{
  gsize n = 0;

  for (int i = 0; i < net->n_ops; i++)
    {
      const PercOp *op = &net->ops[i];

      if (op->kind == PERC_OP_CONV)
        n += (gsize) op->out_channels * op->in_channels * op->kernel * op->kernel +
             op->out_channels;
    }
  for (int t = 0; with_lin && t < net->n_taps; t++)
    n += net->channels[net->taps[t]];
  return n;
}

/* A ResNet described by the metadata "resnet_block" (basic, bottleneck)
 * and "resnet_blocks" (blocks per stage, e.g. "2,2,2,2").
 */
static PercNet *
resnet_from_metadata (const PercSafetensors *st,
                      const char            *network,
                      const char            *architecture,
                      GError               **error)
{
  const char     *kind = perc_safetensors_metadata (st, "resnet_block");
  const char     *list = perc_safetensors_metadata (st, "resnet_blocks");
  PercResnetBlock block;
  int             blocks[PERC_RESNET_MAX_STAGES];
  int             n = 0;
  char          **parts;
  gboolean        ok = TRUE;

  if (g_strcmp0 (architecture, "resnet"))
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                   _("unknown architecture \"%s\" (known: resnet)"), architecture);
      return NULL;
    }
  if (!g_strcmp0 (kind, "basic"))
    block = PERC_RESNET_BASIC;
  else if (!g_strcmp0 (kind, "bottleneck"))
    block = PERC_RESNET_BOTTLENECK;
  else
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                   _("metadata \"resnet_block\" is \"%s\", not basic or bottleneck"),
                   kind ? kind : "");
      return NULL;
    }
  parts = g_strsplit (list ? list : "", ",", -1);
  for (char **p = parts; ok && *p; p++)
    {
      guint64 v;

      ok = n < PERC_RESNET_MAX_STAGES &&
           g_ascii_string_to_unsigned (g_strstrip (*p), 10, 1, 64, &v, NULL);
      if (ok)
        blocks[n++] = v;
    }
  g_strfreev (parts);
  if (!ok || n == 0)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                   _("metadata \"resnet_blocks\" is \"%s\", not 1 to %d numbers of "
                     "blocks (1 to 64) separated by commas"), list ? list : "",
                   PERC_RESNET_MAX_STAGES);
      return NULL;
    }
  return perc_net_new_resnet (network, block, blocks, n, error);
}

static gboolean
read_metadata (PercModel             *model,
               const PercSafetensors *st,
               GError               **error)
{
  const char *path = model->path;
  const char *format = perc_safetensors_metadata (st, "format");
  const char *version = perc_safetensors_metadata (st, "format_version");
  const char *network = perc_safetensors_metadata (st, "network");
  const char *calibration = perc_safetensors_metadata (st, "calibration");
  const char *architecture = perc_safetensors_metadata (st, "architecture");
  GError     *net_error = NULL;

  if (g_strcmp0 (format, FORMAT))
    return model_error (error, path, _("not a gegl-perceptual model file "
                                       "(metadata \"format\" is not \"%s\"); "
                                       "convert PyTorch weights with "
                                       "gegl-perceptual-convert"), FORMAT);
  if (g_strcmp0 (version, FORMAT_VERSION))
    return model_error (error, path, _("model format version \"%s\" is not "
                                       "supported (this version reads %s)"),
                        version ? version : "", FORMAT_VERSION);
  if (!perc_calibration_from_name (calibration, &model->calibration))
    return model_error (error, path, _("unknown calibration \"%s\""),
                        calibration ? calibration : "");
  if (architecture)
    model->net = resnet_from_metadata (st, network, architecture, &net_error);
  else
    model->net = perc_net_new_builtin (network, &net_error);
  if (!model->net)
    {
      model_error (error, path, "%s", net_error->message);
      g_error_free (net_error);
      return FALSE;
    }
  return TRUE;
}

/* Evaluation-mode batch norm after a bias-free convolution, folded into
 * it: y = (conv (x) - mean) * gamma / sqrt (var + eps) + beta.
 */
static gboolean
fold_batch_norm (const PercSafetensors *st,
                 const PercOp          *op,
                 PercConv              *conv,
                 float                 *bias,
                 GHashTable            *used,
                 GError               **error)
{
  static const char *const parts[] = { "weight", "bias", "running_mean", "running_var" };
  gint64 shape[1] = { op->out_channels };
  gsize  per_out = (gsize) op->in_channels * op->kernel * op->kernel;
  float *bn = g_new (float, 4 * op->out_channels);
  float *weight = (float *) conv->weight;
  char   name[PERC_MAX_NAME + 16];
  gboolean ok = TRUE;

  for (int i = 0; i < 4; i++)
    {
      g_snprintf (name, sizeof name, "%s.%s", op->bn, parts[i]);
      if (!take_tensor (st, name, shape, 1, bn + i * op->out_channels, used, error))
        {
          g_free (bn);
          return FALSE;
        }
    }
  for (int o = 0; o < op->out_channels; o++)
    {
      double var = bn[3 * op->out_channels + o];
      double scale;

      if (var < 0)
        {
          g_free (bn);
          return model_error (error, perc_safetensors_get_path (st),
                              _("tensor \"%s.running_var\" has a negative variance"),
                              op->bn);
        }
      scale = bn[o] / sqrt (var + PERC_BATCH_NORM_EPSILON);
      for (gsize i = 0; i < per_out; i++)
        weight[o * per_out + i] *= scale;
      bias[o] = bn[op->out_channels + o] - bn[2 * op->out_channels + o] * scale;
      /* Finite weights can fold into infinite ones (a large scale, a
       * variance near zero), and every distance would be NaN.
       */
      for (gsize i = 0; i < per_out && ok; i++)
        ok = isfinite (weight[o * per_out + i]);
      if (!ok || !isfinite (bias[o]))
        {
          g_free (bn);
          return ok
            ? model_error (error, perc_safetensors_get_path (st),
                           _("folding batch norm \"%s\" into tensor \"%s.weight\" "
                             "gives a non-finite bias: its values are too large"),
                           op->bn, op->weight)
            : model_error (error, perc_safetensors_get_path (st),
                           _("folding batch norm \"%s\" into tensor \"%s.weight\" "
                             "gives non-finite weights: their values are too large"),
                           op->bn, op->weight);
        }
    }
  g_free (bn);
  return TRUE;
}

static gboolean
read_weights (PercModel             *model,
              const PercSafetensors *st,
              GHashTable            *used,
              GError               **error)
{
  const PercNet *net = model->net;
  gboolean       with_lin = model->calibration != PERC_CALIBRATION_UNWEIGHTED;
  float         *p;
  char           name[PERC_MAX_NAME + 16];

  p = model->storage = g_new (float, model_size (net, with_lin));
  model->convs = g_new0 (PercConv, net->n_ops);
  for (int i = 0; i < net->n_ops; i++)
    {
      const PercOp *op = &net->ops[i];
      PercConv     *conv = &model->convs[i];
      gint64        wshape[4] = { op->out_channels, op->in_channels,
                                  op->kernel, op->kernel };

      if (op->kind != PERC_OP_CONV)
        continue;
      *conv = (PercConv) { .in_channels = op->in_channels, .out_channels = op->out_channels,
                           .kernel = op->kernel, .stride = op->stride, .pad = op->pad,
                           .relu = op->relu };
      g_snprintf (name, sizeof name, "%s.weight", op->weight);
      if (!take_tensor (st, name, wshape, 4, p, used, error))
        return FALSE;
      conv->weight = p;
      p += wshape[0] * wshape[1] * wshape[2] * wshape[3];
      conv->bias = p;
      g_snprintf (name, sizeof name, "%s.bias", op->weight);
      if (op->bn[0] ? !fold_batch_norm (st, op, conv, p, used, error)
                    : !take_tensor (st, name, wshape, 1, p, used, error))
        return FALSE;
      p += op->out_channels;
    }
  for (int t = 0; with_lin && t < net->n_taps; t++)
    {
      gint64 shape[1] = { net->channels[net->taps[t]] };

      g_snprintf (name, sizeof name, "lin.%d.weight", t);
      if (!take_tensor (st, name, shape, 1, p, used, error))
        return FALSE;
      model->lin[t] = p;
      p += shape[0];
    }
  return TRUE;
}

/* Whether the n floats at p are all finite. */
static gboolean
all_finite (const float *p,
            gsize        n)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (p[i]))
      return FALSE;
  return TRUE;
}

/* Replaces the file's weights with those: the biases and lin weights move
 * along, the file's layout is freed.  What the kernels will read is
 * checked once more: a Winograd transform sums up to 25 weights with
 * factors above 1, which can overflow where each weight was finite.
 */
static gboolean
transform_weights (PercModel *model,
                   GError   **error)
{
  const PercNet *net = model->net;
  gsize          n = 0;
  float         *storage, *p;

  /* Each convolution's method (Winograd's blocks where they pay, the
   * lowered product elsewhere) for the model's micro-kernel.
   */
  for (int i = 0; i < net->n_ops; i++)
    if (net->ops[i].kind == PERC_OP_CONV)
      {
        perc_conv_choose (&model->convs[i], &model->microkernel);
        n += perc_conv_weights_size (&model->convs[i]) + net->ops[i].out_channels;
      }
  for (int t = 0; t < net->n_taps; t++)
    if (model->lin[t])
      n += net->channels[net->taps[t]];
  /* Zeroed: the alignment slack of packed weights is checked with them. */
  p = storage = g_new0 (float, MAX (n, 1));
  for (int i = 0; i < net->n_ops; i++)
    {
      PercConv *conv = &model->convs[i];

      if (net->ops[i].kind != PERC_OP_CONV)
        continue;
      perc_conv_pack (conv, p);
      if (!all_finite (p, perc_conv_weights_size (conv)))
        {
          g_free (storage);
          return model_error (error, model->path,
                              _("tensor \"%s.weight\" has values too large for "
                                "the convolution: its transformed weights are not "
                                "finite"), net->ops[i].weight);
        }
      p += perc_conv_weights_size (conv);
      conv->bias = memcpy (p, conv->bias, conv->out_channels * sizeof (float));
      p += conv->out_channels;
      conv->weight = NULL;
    }
  for (int t = 0; t < net->n_taps; t++)
    if (model->lin[t])
      {
        gsize channels = net->channels[net->taps[t]];

        model->lin[t] = memcpy (p, model->lin[t], channels * sizeof (float));
        p += channels;
      }
  g_free (model->storage);
  model->storage = storage;
  return TRUE;
}

PercModel *
perc_model_new (const PercSafetensors *st,
                const PercMicrokernel *microkernel,
                GError               **error)
{
  const char *path = perc_safetensors_get_path (st);
  PercModel  *model = g_new0 (PercModel, 1);
  GHashTable *used = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean    ok;

  model->path = g_strdup (path);
  model->microkernel = *microkernel;
  ok = read_metadata (model, st, error) && read_weights (model, st, used, error);
  for (guint i = 0; ok && i < perc_safetensors_n_tensors (st); i++)
    {
      const char *name = perc_safetensors_tensor (st, i)->name;

      if (!g_hash_table_contains (used, name))
        /* TRANSLATORS: a tensor's name, a network (squeeze, alex, vgg,
         * resnet18, ...) and a calibration (lpips-v0.1, lpips-v0.0,
         * unweighted).
         */
        ok = model_error (error, path, _("unexpected tensor \"%s\" for a %s %s "
                                         "model"), name, model->net->name,
                          perc_calibration_name (model->calibration));
    }
  g_hash_table_destroy (used);
  if (!ok)
    {
      perc_model_free (model);
      return NULL;
    }
  model->min_size = perc_net_min_size (model->net);
  if (!transform_weights (model, error))
    {
      perc_model_free (model);
      return NULL;
    }
  return model;
}

PercModel *
perc_model_load (const char            *path,
                 const PercMicrokernel *microkernel,
                 GError               **error)
{
  PercSafetensors *st = perc_safetensors_load (path, error);
  PercModel       *model;

  if (!st)
    return NULL;
  model = perc_model_new (st, microkernel, error);
  perc_safetensors_free (st);
  return model;
}

void
perc_model_free (PercModel *model)
{
  if (!model)
    return;
  perc_net_free (model->net);
  g_free (model->convs);
  g_free (model->storage);
  g_free (model->path);
  g_free (model);
}

gboolean
perc_model_supports (const PercModel *model,
                     PercCalibration  calibration,
                     GError         **error)
{
  if (calibration == PERC_CALIBRATION_UNWEIGHTED ||
      calibration == model->calibration)
    return TRUE;
  g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
               /* TRANSLATORS: a file name, then two calibrations (lpips-v0.1,
                * lpips-v0.0, unweighted).
                */
               _("%s: the model holds %s weights, not %s"), model->path,
               perc_calibration_name (model->calibration),
               perc_calibration_name (calibration));
  return FALSE;
}

const float *
perc_model_lin (const PercModel *model,
                PercCalibration  calibration,
                int              tap)
{
  return calibration == PERC_CALIBRATION_UNWEIGHTED ? NULL : model->lin[tap];
}

gboolean
perc_model_check_size (const PercModel *model,
                       int              width,
                       int              height,
                       GError         **error)
{
  if (width >= model->min_size && height >= model->min_size)
    return TRUE;
  g_set_error (error, PERC_ERROR, PERC_ERROR_INPUT,
               _("the image is %dx%d pixels; the %s network needs at least %dx%d"),
               width, height, model->net->name, model->min_size, model->min_size);
  return FALSE;
}
