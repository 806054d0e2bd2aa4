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
  PERC_OP_MAXPOOL
} PercOpKind;

typedef struct
{
  PercOpKind kind;
  int        src;
  int        dst;
  char       weight[PERC_MAX_NAME];  /* conv: prefix of "<weight>.weight/.bias" */
  int        in_channels;            /* conv */
  int        out_channels;           /* conv */
  int        dst_channel;            /* conv: first channel written in dst */
  int        kernel;
  int        stride;
  int        pad;
  gboolean   relu;                   /* conv */
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
} PercNet;

/* The names of the built-in networks, NULL-terminated. */
const char *const *perc_net_builtin_names (void);

PercNet  *perc_net_new_builtin (const char *name,
                                GError    **error);
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
