#include "ops/perc-conv.h"
#include "ops/perc-lowered.h"
#include "ops/perc-winograd.h"

void
perc_conv_choose (PercConv              *conv,
                  const PercMicrokernel *microkernel)
{
  conv->microkernel = microkernel;
  conv->winograd_m = perc_winograd_block (conv);
}

/* Winograd's blocks save products in proportion to in x out channels per
 * output pixel, and cost transforms in proportion to in + out: they pay
 * on outputs of PERC_CONV_WINOGRAD_MIN_WORK / (in out / (in + out))
 * pixels or more.  Measured in one thread: SqueezeNet's first 3 x 3 layers
 * (16 to 64 channels) are faster lowered at 15 x 15 and with Winograd's
 * blocks at 63 x 63, AlexNet's (192 to 384) with Winograd's blocks at
 * 15 x 15.
 */
gboolean
perc_conv_winograd_at (const PercConv *conv,
                       int             height,
                       int             width)
{
  double pixels = (double) perc_conv_out_size (conv, height) * perc_conv_out_size (conv, width);

  return conv->winograd_m > 0 &&
         pixels * conv->in_channels * conv->out_channels >=
         (double) PERC_CONV_WINOGRAD_MIN_WORK * (conv->in_channels + conv->out_channels);
}

gsize
perc_conv_weights_size (const PercConv *conv)
{
  /* Layers that can take Winograd's blocks keep both forms. */
  return perc_lowered_weights_size (conv) +
         (conv->winograd_m > 0 ? perc_winograd_weights_size (conv, conv->winograd_m) : 0);
}

const float *
perc_conv_pack (PercConv *conv,
                float    *dst)
{
  conv->packed_weight = perc_lowered_pack (conv, dst);
  if (conv->winograd_m > 0)
    conv->winograd_weight = perc_winograd_weights (conv, conv->winograd_m,
                                                   dst + perc_lowered_weights_size (conv));
  return conv->packed_weight;
}

gsize
perc_conv_scratch_size (const PercConv *conv,
                        int             height,
                        int             width)
{
  return perc_conv_winograd_at (conv, height, width)
         ? perc_winograd_scratch_size (conv, height, width)
         : perc_lowered_scratch_size (conv, height, width);
}

void
perc_conv_forward_rows (const PercConv *conv,
                        const float    *src,
                        int             height,
                        int             width,
                        float          *dst,
                        float          *scratch,
                        int             first,
                        int             end)
{
  if (perc_conv_winograd_at (conv, height, width))
    perc_winograd_forward_rows (conv, src, height, width, dst, scratch, first, end);
  else
    perc_lowered_forward_rows (conv, src, height, width, dst, scratch, first, end);
}
