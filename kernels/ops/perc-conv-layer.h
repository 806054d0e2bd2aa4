/* A convolution layer as the kernels take it: its shape, and its weights
 * in the form the chosen method reads (perc-conv.h chooses and packs).
 */
#ifndef PERC_CONV_LAYER_H
#define PERC_CONV_LAYER_H

#include <glib.h>

#include "ops/perc-microkernel.h"

G_BEGIN_DECLS

typedef struct
{
  int                    in_channels;
  int                    out_channels;
  int                    kernel;          /* square kernels */
  int                    stride;
  int                    pad;             /* zero padding on every side */
  gboolean               relu;
  const float           *weight;          /* [out][in][kernel][kernel]: read to
                                           * pack, NULL in a loaded model */
  const float           *bias;            /* [out] */
  const PercMicrokernel *microkernel;     /* the products' kernel: the one the
                                           * weights are packed for */
  int                    winograd_m;      /* 0: lowered into panels; else
                                           * Winograd's blocks of m x m */
  const float           *winograd_weight; /* the weights transformed for them */
  const float           *packed_weight;   /* the weights packed for the
                                           * lowered product */
} PercConv;

/* Output size of the convolution along an axis of `size` inputs. */
static inline int
perc_conv_out_size (const PercConv *conv,
                    int             size)
{
  return (size + 2 * conv->pad - conv->kernel) / conv->stride + 1;
}

G_END_DECLS

#endif
