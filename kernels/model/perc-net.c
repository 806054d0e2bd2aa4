/* The built-in networks: torchvision's SqueezeNet 1.1, AlexNet and VGG-16
 * `features`, up to the last LPIPS tap, and its ResNets up to the last
 * stage.  Tensor names are torchvision's.
 */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "perc-error.h"
#include "model/perc-net.h"

static int
add_buffer (PercNet *net)
{
  net->channels = g_renew (int, net->channels, net->n_buffers + 1);
  net->channels[net->n_buffers] = 0;
  return net->n_buffers++;
}

static PercOp *
add_op (PercNet   *net,
        PercOpKind kind,
        int        src,
        int        dst,
        int        kernel,
        int        stride,
        int        pad)
{
  PercOp *op;

  net->ops = g_renew (PercOp, net->ops, net->n_ops + 1);
  op = &net->ops[net->n_ops++];
  memset (op, 0, sizeof *op);
  op->kind = kind;
  op->src = src;
  op->src2 = -1;
  op->dst = dst;
  op->kernel = kernel;
  op->stride = stride;
  op->pad = pad;
  return op;
}

/* A convolution + ReLU from src, appended to the channels of dst. */
static void
conv (PercNet    *net,
      int         src,
      int         dst,
      const char *weight,
      int         out_channels,
      int         kernel,
      int         stride,
      int         pad)
{
  PercOp *op = add_op (net, PERC_OP_CONV, src, dst, kernel, stride, pad);

  g_strlcpy (op->weight, weight, sizeof op->weight);
  op->in_channels = net->channels[src];
  op->out_channels = out_channels;
  op->dst_channel = net->channels[dst];
  op->relu = TRUE;
  net->channels[dst] += out_channels;
}

static int
conv_new (PercNet *net, int src, int index, int out_channels,
          int kernel, int stride, int pad)
{
  int  dst = add_buffer (net);
  char name[PERC_MAX_NAME];

  g_snprintf (name, sizeof name, "features.%d", index);
  conv (net, src, dst, name, out_channels, kernel, stride, pad);
  return dst;
}

static int
maxpool (PercNet *net, int src, int kernel, int stride, gboolean ceil_mode)
{
  int dst = add_buffer (net);

  add_op (net, PERC_OP_MAXPOOL, src, dst, kernel, stride, 0)->ceil_mode = ceil_mode;
  net->channels[dst] = net->channels[src];
  return dst;
}

/* SqueezeNet's Fire module: squeeze 1x1, then expand 1x1 and 3x3 side by
 * side; the expands write into one buffer, which is the concatenation.
 */
static int
fire (PercNet *net, int src, int index, int squeeze, int expand)
{
  int  s = add_buffer (net);
  int  dst = add_buffer (net);
  char name[PERC_MAX_NAME];

  g_snprintf (name, sizeof name, "features.%d.squeeze", index);
  conv (net, src, s, name, squeeze, 1, 1, 0);
  g_snprintf (name, sizeof name, "features.%d.expand1x1", index);
  conv (net, s, dst, name, expand, 1, 1, 0);
  g_snprintf (name, sizeof name, "features.%d.expand3x3", index);
  conv (net, s, dst, name, expand, 3, 1, 1);
  return dst;
}

static void
tap (PercNet *net, int buffer)
{
  g_assert (net->n_taps < PERC_MAX_TAPS);
  net->taps[net->n_taps++] = buffer;
}

static void
build_squeeze (PercNet *net)
{
  int b = conv_new (net, 0, 0, 64, 3, 2, 0);

  tap (net, b);
  b = maxpool (net, b, 3, 2, TRUE);
  b = fire (net, b, 3, 16, 64);
  b = fire (net, b, 4, 16, 64);
  tap (net, b);
  b = maxpool (net, b, 3, 2, TRUE);
  b = fire (net, b, 6, 32, 128);
  b = fire (net, b, 7, 32, 128);
  tap (net, b);
  b = maxpool (net, b, 3, 2, TRUE);
  b = fire (net, b, 9, 48, 192);
  tap (net, b);
  b = fire (net, b, 10, 48, 192);
  tap (net, b);
  b = fire (net, b, 11, 64, 256);
  tap (net, b);
  b = fire (net, b, 12, 64, 256);
  tap (net, b);
}

static void
build_alex (PercNet *net)
{
  int b = conv_new (net, 0, 0, 64, 11, 4, 2);

  tap (net, b);
  b = maxpool (net, b, 3, 2, FALSE);
  b = conv_new (net, b, 3, 192, 5, 1, 2);
  tap (net, b);
  b = maxpool (net, b, 3, 2, FALSE);
  b = conv_new (net, b, 6, 384, 3, 1, 1);
  tap (net, b);
  b = conv_new (net, b, 8, 256, 3, 1, 1);
  tap (net, b);
  b = conv_new (net, b, 10, 256, 3, 1, 1);
  tap (net, b);
}

static void
build_vgg (PercNet *net)
{
  /* Blocks of 3x3 convolutions, a 2x2 max pool between blocks; each
   * block's last ReLU is a tap.
   */
  static const int blocks[] = { 2, 2, 3, 3, 3 };
  static const int widths[] = { 64, 128, 256, 512, 512 };
  int b = 0, index = 0;

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      if (i > 0)
        {
          b = maxpool (net, b, 2, 2, FALSE);
          index++;
        }
      for (int j = 0; j < blocks[i]; j++, index += 2)
        b = conv_new (net, b, index, widths[i], 3, 1, 1);
      tap (net, b);
    }
}

/* A convolution without bias whose batch norm is folded in at load time. */
static int
conv_bn (PercNet    *net,
         int         src,
         const char *prefix,
         const char *weight,
         const char *bn,
         int         out_channels,
         int         kernel,
         int         stride,
         gboolean    relu)
{
  int  dst = add_buffer (net);
  char name[PERC_MAX_NAME];

  g_snprintf (name, sizeof name, "%s%s", prefix, weight);
  conv (net, src, dst, name, out_channels, kernel, stride, kernel / 2);
  g_snprintf (net->ops[net->n_ops - 1].bn, PERC_MAX_NAME, "%s%s", prefix, bn);
  net->ops[net->n_ops - 1].relu = relu;
  return dst;
}

/* torchvision's BasicBlock or Bottleneck (stride on the 3x3 convolution). */
static int
residual_block (PercNet        *net,
                int             src,
                int             stage,
                int             index,
                PercResnetBlock block,
                int             stride)
{
  int     planes = 64 << (stage - 1);
  int     out = block == PERC_RESNET_BOTTLENECK ? 4 * planes : planes;
  int     identity = src, b, dst;
  char    prefix[PERC_MAX_NAME];
  PercOp *op;

  g_snprintf (prefix, sizeof prefix, "layer%d.%d.", stage, index);
  if (stride != 1 || net->channels[src] != out)
    identity = conv_bn (net, src, prefix, "downsample.0", "downsample.1",
                        out, 1, stride, FALSE);
  if (block == PERC_RESNET_BASIC)
    {
      b = conv_bn (net, src, prefix, "conv1", "bn1", planes, 3, stride, TRUE);
      b = conv_bn (net, b, prefix, "conv2", "bn2", planes, 3, 1, FALSE);
    }
  else
    {
      b = conv_bn (net, src, prefix, "conv1", "bn1", planes, 1, 1, TRUE);
      b = conv_bn (net, b, prefix, "conv2", "bn2", planes, 3, stride, TRUE);
      b = conv_bn (net, b, prefix, "conv3", "bn3", out, 1, 1, FALSE);
    }
  dst = add_buffer (net);
  op = add_op (net, PERC_OP_ADD, b, dst, 1, 1, 0);
  op->src2 = identity;
  op->relu = TRUE;
  net->channels[dst] = out;
  return dst;
}

static void
build_resnet (PercNet        *net,
              PercResnetBlock block,
              const int      *blocks,
              int             n_stages)
{
  int stem = conv_bn (net, 0, "", "conv1", "bn1", 64, 7, 2, TRUE);
  int b = add_buffer (net);

  add_op (net, PERC_OP_MAXPOOL, stem, b, 3, 2, 1);
  net->channels[b] = 64;
  for (int s = 0; s < n_stages; s++)
    {
      for (int i = 0; i < blocks[s]; i++)
        b = residual_block (net, b, s + 1, i, block, i == 0 && s > 0 ? 2 : 1);
      tap (net, b);
    }
  tap (net, stem);
  net->default_layers = (1u << n_stages) - 1;
}

/* The built-in networks: the one table from which every list of them is
 * made (the ops' choices, the command line's, the GIMP plug-ins', the
 * default calibrations, messages).  A new network is a new row.
 */
static const struct
{
  const char     *name;
  const char     *label;
  gboolean        lpips;        /* LPIPS published calibrations for it */
  void          (*build) (PercNet *net);
  PercResnetBlock block;
  int             blocks[PERC_RESNET_MAX_STAGES];
} builtins[] = {
  { "squeeze",  N_("SqueezeNet 1.1"), TRUE,  build_squeeze, 0, { 0 } },
  { "alex",     N_("AlexNet"),        TRUE,  build_alex,    0, { 0 } },
  { "vgg",      N_("VGG-16"),         TRUE,  build_vgg,     0, { 0 } },
  { "resnet18", N_("ResNet-18"),      FALSE, NULL, PERC_RESNET_BASIC,      { 2, 2, 2, 2 } },
  { "resnet34", N_("ResNet-34"),      FALSE, NULL, PERC_RESNET_BASIC,      { 3, 4, 6, 3 } },
  { "resnet50", N_("ResNet-50"),      FALSE, NULL, PERC_RESNET_BOTTLENECK, { 3, 4, 6, 3 } },
};

/* The table as callers see it, with what the descriptions give. */
static PercNetInfo infos[G_N_ELEMENTS (builtins) + 1];

const PercNetInfo *
perc_net_builtins (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
        {
          PercNet *net = perc_net_new_builtin (builtins[i].name, NULL);

          infos[i] = (PercNetInfo) { builtins[i].name, builtins[i].label, builtins[i].lpips,
                                     net->n_taps, perc_net_min_size (net) };
          perc_net_free (net);
        }
      g_once_init_leave (&done, 1);
    }
  return infos;
}

const PercNetInfo *
perc_net_builtin (const char *name)
{
  for (const PercNetInfo *n = perc_net_builtins (); n->name; n++)
    if (!g_strcmp0 (name, n->name))
      return n;
  return NULL;
}

char *
perc_net_builtin_names (const char *separator)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    g_string_append_printf (s, "%s%s", i ? separator : "", builtins[i].name);
  return g_string_free (s, FALSE);
}

static PercNet *
net_new (const char *name)
{
  PercNet *net = g_new0 (PercNet, 1);

  net->name = g_strdup (name);
  add_buffer (net);
  net->channels[0] = 3;
  return net;
}

PercNet *
perc_net_new_builtin (const char *name,
                      GError    **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    if (!g_strcmp0 (name, builtins[i].name))
      {
        PercNet *net;

        if (!builtins[i].build)
          return perc_net_new_resnet (name, builtins[i].block, builtins[i].blocks,
                                      PERC_RESNET_MAX_STAGES, error);
        net = net_new (name);
        builtins[i].build (net);
        net->default_layers = (1u << net->n_taps) - 1;
        return net;
      }
  {
    char *known = perc_net_builtin_names (", ");

    g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                 _("unknown network \"%s\" (known: %s, or a ResNet described by the "
                   "model file)"), name ? name : "", known);
    g_free (known);
  }
  return NULL;
}

static gboolean
valid_name (const char *name)
{
  if (!name || !g_ascii_islower (name[0]) || strlen (name) > 31)
    return FALSE;
  for (const char *c = name; *c; c++)
    if (!g_ascii_islower (*c) && !g_ascii_isdigit (*c) && !strchr ("_.-", *c))
      return FALSE;
  return TRUE;
}

PercNet *
perc_net_new_resnet (const char      *name,
                     PercResnetBlock  block,
                     const int       *blocks,
                     int              n_stages,
                     GError         **error)
{
  PercNet *net;

  if (!valid_name (name))
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                   _("\"%s\" is not a valid network name (lower-case letters, "
                     "digits, '_', '.', '-'; at most 31)"), name ? name : "");
      return NULL;
    }
  if (n_stages < 1 || n_stages > PERC_RESNET_MAX_STAGES)
    {
      g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                   _("a ResNet has 1 to %d stages, not %d"), PERC_RESNET_MAX_STAGES,
                   n_stages);
      return NULL;
    }
  for (int s = 0; s < n_stages; s++)
    if (blocks[s] < 1 || blocks[s] > 64)
      {
        g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                     _("stage %d of a ResNet needs 1 to 64 blocks, not %d"),
                     s + 1, blocks[s]);
        return NULL;
      }
  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    if (!strcmp (name, builtins[i].name) &&
        (!g_str_has_prefix (name, "resnet") || block != builtins[i].block ||
         n_stages != PERC_RESNET_MAX_STAGES ||
         memcmp (blocks, builtins[i].blocks, sizeof builtins[i].blocks)))
      {
        g_set_error (error, PERC_ERROR, PERC_ERROR_MODEL,
                     _("the blocks described for \"%s\" are not its standard "
                       "ones; give a custom network another name"), name);
        return NULL;
      }
  net = net_new (name);
  build_resnet (net, block, blocks, n_stages);
  return net;
}

void
perc_net_free (PercNet *net)
{
  if (!net)
    return;
  g_free (net->name);
  g_free (net->ops);
  g_free (net->channels);
  g_free (net);
}

int
perc_op_output_size (const PercOp *op,
                     int           size)
{
  /* PyTorch's formula; ceil mode rounds the window count up. */
  gboolean ceil_mode = op->kind == PERC_OP_MAXPOOL && op->ceil_mode;
  int      span = size + 2 * op->pad - op->kernel + (ceil_mode ? op->stride - 1 : 0);
  int      out;

  if (span < 0)
    return 0;
  out = span / op->stride + 1;
  /* The last window must start inside the input or its left padding. */
  if (ceil_mode && (out - 1) * op->stride >= size + op->pad)
    out--;
  return out;
}

gboolean
perc_net_shapes (const PercNet *net,
                 int            width,
                 int            height,
                 PercShape     *shapes)
{
  for (int i = 0; i < net->n_buffers; i++)
    shapes[i] = (PercShape) { net->channels[i], 0, 0 };
  shapes[0].h = height;
  shapes[0].w = width;
  for (int i = 0; i < net->n_ops; i++)
    {
      const PercOp *op = &net->ops[i];
      int           h = perc_op_output_size (op, shapes[op->src].h);
      int           w = perc_op_output_size (op, shapes[op->src].w);

      if (h < 1 || w < 1)
        return FALSE;
      shapes[op->dst].h = h;
      shapes[op->dst].w = w;
    }
  return TRUE;
}

int
perc_net_min_size (const PercNet *net)
{
  PercShape *shapes = g_new (PercShape, net->n_buffers);
  int        size = 1;

  while (!perc_net_shapes (net, size, size, shapes))
    size++;
  g_free (shapes);
  return size;
}
