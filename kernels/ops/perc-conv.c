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

/* Winograd's blocks pay for their transforms only on large enough
 * outputs.  Measured in one thread: with 7 x 7 and 3 x 3 outputs lowered,
 * SqueezeNet and AlexNet at 64 x 64 take half the time (3.0 ms and 7.7 ms
 * against 6.2 and 16.1), while AlexNet's 15 x 15 layers are faster with
 * Winograd's blocks (at 256 x 256, 27 ms against 39 ms all lowered).
 */
gboolean
perc_conv_winograd_at (const PercConv *conv,
                       int             height,
                       int             width)
{
  return conv->winograd_m > 0 &&
         (gsize) perc_conv_out_size (conv, height) * perc_conv_out_size (conv, width) >=
         PERC_CONV_WINOGRAD_MIN_OUTPUT;
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
