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
 * blocks at 63 x 63, its last (48 and 64 to 192 and 256) lowered at
 * 15 x 15 (SqueezeNet at 256 x 256 8 % faster than with half the
 * threshold, on BLIS's skx kernels), AlexNet's (192 to 384) with
 * Winograd's blocks at 15 x 15.  And their products run over blocks, a panel of the
 * micro-kernel's pixels at a time: with fewer blocks than half a panel,
 * the empty part costs more than the blocks save (VGG-16 at 64 x 64 in
 * half the time with its 8 x 8 layers lowered).
 */
gboolean
perc_conv_winograd_at (const PercConv *conv,
                       int             height,
                       int             width)
{
  int    m = conv->winograd_m, oh = perc_conv_out_size (conv, height);
  int    ow = perc_conv_out_size (conv, width);
  double pixels = (double) oh * ow;

  return m > 0 &&
         pixels * conv->in_channels * conv->out_channels >=
         (double) PERC_CONV_WINOGRAD_MIN_WORK * (conv->in_channels + conv->out_channels) &&
         2 * ((oh + m - 1) / m) * ((ow + m - 1) / m) >= conv->microkernel->pixels;
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
perc_conv_forward_part (const PercConv *conv,
                        const float    *src,
                        int             height,
                        int             width,
                        float          *dst,
                        float          *scratch,
                        int             first,
                        int             end,
                        int             c0,
                        int             c1)
{
  if (perc_conv_winograd_at (conv, height, width))
    perc_winograd_forward_part (conv, src, height, width, dst, scratch, first, end, c0, c1);
  else
    perc_lowered_forward_part (conv, src, height, width, dst, scratch, first, end, c0, c1);
}

gboolean
perc_conv_spans_images (const PercConv *conv,
                        int             height,
                        int             width)
{
  if (perc_conv_winograd_at (conv, height, width))
    return perc_winograd_spans (conv, height, width);
  return perc_conv_out_size (conv, width) < conv->microkernel->pixels;
}

void
perc_conv_forward_images (const PercConv     *conv,
                          const float *const *src,
                          int                 n,
                          int                 height,
                          int                 width,
                          float *const       *dst,
                          float              *scratch,
                          int                 c0,
                          int                 c1)
{
  gsize plane = (gsize) perc_conv_out_size (conv, height) * perc_conv_out_size (conv, width);

  g_return_if_fail (perc_conv_spans_images (conv, height, width));
  if (perc_conv_winograd_at (conv, height, width))
    perc_winograd_forward_images (conv, src, n, height, width, dst, scratch, c0, c1);
  else
    perc_lowered_forward_images (conv, src, height, width, dst, scratch, 0, n * plane, c0, c1);
}
