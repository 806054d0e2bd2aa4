/* Network descriptions: a network is a list of operations on numbered
 * feature buffers (NCHW, one image).  Buffer 0 holds the preprocessed input
 * image.  The built-in architectures are small builder functions; a new
 * architecture is another builder, not new execution code.
 */
#ifndef PERC_NET_H
#define PERC_NET_H

#include <glib.h>

G_BEGIN_DECLS

#define PERC_MAX_TAPS 8
#define PERC_MAX_NAME 48

typedef enum
{
  PERC_OP_CONV,     /* convolution + bias (+ ReLU); appends its channels to dst */
  PERC_OP_MAXPOOL,
  PERC_OP_ADD       /* dst = src + src2 (+ ReLU): a residual connection */
} PercOpKind;

typedef struct
{
  PercOpKind kind;
  int        src;
  int        src2;                   /* add */
  int        dst;
  char       weight[PERC_MAX_NAME];  /* conv: prefix of "<weight>.weight/.bias" */
  char       bn[PERC_MAX_NAME];      /* conv: batch norm folded in at load time,
                                      * prefix of its tensors; the convolution
                                      * then has no bias tensor */
  int        in_channels;            /* conv */
  int        out_channels;           /* conv */
  int        dst_channel;            /* conv: first channel written in dst */
  int        kernel;
  int        stride;
  int        pad;
  gboolean   relu;                   /* conv, add */
  gboolean   ceil_mode;              /* pool */
} PercOp;

typedef struct
{
  int c, h, w;
} PercShape;

typedef struct
{
  char   *name;
  PercOp *ops;
  int     n_ops;
  int     n_buffers;
  int    *channels;                  /* per buffer */
  int     taps[PERC_MAX_TAPS];       /* buffer indices */
  int     n_taps;
  guint   default_layers;            /* bit l: tap l counts by default */
} PercNet;

typedef enum
{
  PERC_RESNET_BASIC,
  PERC_RESNET_BOTTLENECK
} PercResnetBlock;

#define PERC_RESNET_MAX_STAGES 4

/* A built-in network, as front ends list and check it without loading a
 * model.
 */
typedef struct
{
  const char *name;       /* "squeeze": model file names, the ops' and the CLI's choice */
  const char *label;      /* "SqueezeNet 1.1", untranslated (for _ ()) */
  gboolean    lpips;      /* LPIPS published calibrations for it */
  int         n_taps;     /* layers; a ResNet's stages, then its stem */
  int         min_size;   /* the smallest image side it takes */
} PercNetInfo;

/* The built-in networks in their fixed order, ending with a NULL name. */
const PercNetInfo *perc_net_builtins      (void);
/* A built-in network by name, or NULL. */
const PercNetInfo *perc_net_builtin       (const char *name);
/* Their names joined by `separator`; free with g_free (). */
char              *perc_net_builtin_names (const char *separator);

PercNet  *perc_net_new_builtin (const char *name,
                                GError    **error);
/* A torchvision ResNet of 1 to 4 stages with `blocks[s]` blocks each:
 * the stem (7x7/2 convolution, batch norm, ReLU, 3x3/2 max pool), then
 * the stages.  Taps: each stage's output, then the stem's ReLU (not
 * counted by default).  `name` is free for custom networks; resnet18,
 * resnet34 and resnet50 must have their standard blocks.
 */
PercNet  *perc_net_new_resnet  (const char      *name,
                                PercResnetBlock  block,
                                const int       *blocks,
                                int              n_stages,
                                GError         **error);
void      perc_net_free        (PercNet    *net);

/* Output size of a convolution or pooling along one axis; < 1 if the
 * input is too small.
 */
int       perc_op_output_size  (const PercOp *op,
                                int           size);

/* Fills shapes[n_buffers] for an input of width x height.  FALSE when some
 * buffer would be empty (the input is too small).
 */
gboolean  perc_net_shapes      (const PercNet *net,
                                int            width,
                                int            height,
                                PercShape     *shapes);

/* The smallest side (pixels) of an input for which every buffer is
 * non-empty; both the width and the height must be at least this.
 */
int       perc_net_min_size    (const PercNet *net);

G_END_DECLS

#endif
