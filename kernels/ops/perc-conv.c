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

gsize
perc_conv_weights_size (const PercConv *conv)
{
  return conv->winograd_m > 0 ? perc_winograd_weights_size (conv, conv->winograd_m)
                              : perc_lowered_weights_size (conv);
}

const float *
perc_conv_pack (PercConv *conv,
                float    *dst)
{
  if (conv->winograd_m > 0)
    return conv->winograd_weight = perc_winograd_weights (conv, conv->winograd_m, dst);
  return conv->packed_weight = perc_lowered_pack (conv, dst);
}

gsize
perc_conv_scratch_size (const PercConv *conv,
                        int             height,
                        int             width)
{
  return conv->winograd_m > 0 ? perc_winograd_scratch_size (conv, height, width)
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
  if (conv->winograd_m > 0)
    perc_winograd_forward_rows (conv, src, height, width, dst, scratch, first, end);
  else
    perc_lowered_forward_rows (conv, src, height, width, dst, scratch, first, end);
}
