#include <string.h>

#include "ops/perc-lowered.h"
#include "ops/perc-microkernel.h"
#include "ops/perc-phases.h"

static gboolean
is_pointwise (const PercConv *conv)
{
  return conv->kernel == 1 && conv->stride == 1 && conv->pad == 0;
}

static int
depth (const PercConv *conv)
{
  return conv->in_channels * conv->kernel * conv->kernel;
}

/* One row of a panel: n floats, n a kernel's panel width.  Called per tap
 * and channel on 16 to 32 floats, where a call to memcpy costs more than
 * the copy; a constant size is two or four vector moves.
 */
static inline void
copy_row (float       *dst,
          const float *src,
          int          n)
{
  switch (n)
    {
    case 16: memcpy (dst, src, 16 * sizeof (float)); break;
    case 32: memcpy (dst, src, 32 * sizeof (float)); break;
    default: memcpy (dst, src, n * sizeof (float)); break;
    }
}

gsize
perc_lowered_weights_size (const PercConv *conv)
{
  return perc_microkernel_weights_size (conv->microkernel, conv->out_channels, depth (conv));
}

const float *
perc_lowered_pack (const PercConv *conv,
                   float          *dst)
{
  return perc_microkernel_pack_weights (conv->microkernel, conv->weight, conv->out_channels,
                                        depth (conv), dst);
}

/* Samples per phase of a split input row: enough for whole panels of
 * output pixels and the kernel's reach past them.
 */
static int
split_width (const PercConv        *conv,
             const PercMicrokernel *k,
             int                    out_w)
{
  return (out_w + k->pixels - 1) / k->pixels * k->pixels + (conv->kernel - 1) / conv->stride;
}

/* Output rows a panel of pixels spans, at most, and the input rows they
 * read, for outputs narrower than a panel.
 */
static int
gathered_rows (const PercConv        *conv,
               const PercMicrokernel *k,
               int                    out_w)
{
  int rows = (k->pixels - 2 + out_w) / out_w + 1;

  return (rows - 1) * conv->stride + conv->kernel;
}

gsize
perc_lowered_scratch_size (const PercConv *conv,
                           int             height G_GNUC_UNUSED,
                           int             width)
{
  const PercMicrokernel *k = conv->microkernel;
  gsize                  n;

  n = PERC_MICROKERNEL_ALIGN + perc_microkernel_panel_floats (k->pixels, depth (conv));
  /* Lowering keeps the input rows of a panel with their padding, and
   * where each pixel starts; or the split input rows of an output row.
   */
  if (is_pointwise (conv))
    ;
  else if (perc_conv_out_size (conv, width) < k->pixels)
    n += (gsize) conv->in_channels * gathered_rows (conv, k, perc_conv_out_size (conv, width)) *
         (width + 2 * conv->pad) + k->pixels;
  else
    n += (gsize) conv->in_channels * conv->kernel * conv->stride *
         split_width (conv, k, perc_conv_out_size (conv, width));
  return n;
}

static void
bias_relu (const PercConv *conv,
           float          *dst,
           gsize           plane,
           gsize           n,
           int             c0,
           int             c1)
{
  for (int o = c0; o < c1; o++)
    {
      float      *d = dst + o * plane;
      const float b = conv->bias[o];

      if (conv->relu)
        for (gsize i = 0; i < n; i++)
          d[i] = MAX (d[i] + b, 0.0f);
      else
        for (gsize i = 0; i < n; i++)
          d[i] += b;
    }
}

/* Channels [c0, c1) of a panel of pixels at dst: whole panels of weights
 * where the range holds them, part of one at its ends.
 */
static void
tiles (const PercConv        *conv,
       const PercMicrokernel *k,
       const float           *panel,
       float                 *dst,
       gsize                  plane,
       int                    cols,
       int                    c0,
       int                    c1)
{
  const int   n = depth (conv);
  const gsize weights = perc_microkernel_panel_floats (k->outputs, n);

  for (int o = c0; o < c1;)
    {
      int skip = o % k->outputs, rows = MIN (k->outputs - skip, c1 - o);

      perc_microkernel_tile (k, n, panel, conv->packed_weight + o / k->outputs * weights,
                             dst + o * plane, plane, skip, rows, cols);
      o += rows;
    }
}

/* Output row y of a convolution with packed weights: the input rows it
 * reads, split into `stride` phases; then panel by panel of pixels, the
 * lowered panel (every tap a contiguous copy from a phase) against the
 * panels of weights of channels [c0, c1).
 */
static void
lowered_row (const PercConv        *conv,
             const PercMicrokernel *k,
             const float           *src,
             int                    height,
             int                    width,
             int                    y,
             float                 *dst,
             int                    out_w,
             gsize                  plane,
             int                    c0,
             int                    c1,
             float                 *panel,
             float                 *phases)
{
  const int ks = conv->kernel, s = conv->stride;
  const int nq = split_width (conv, k, out_w);

  for (int c = 0; c < conv->in_channels; c++)
    for (int ky = 0; ky < ks; ky++)
      perc_phases_split_row (src + (gsize) c * height * width, height, width, conv->pad, s,
                           nq, y * s - conv->pad + ky,
                           phases + (gsize) (c * ks + ky) * s * nq, nq);
  for (int x0 = 0; x0 < out_w; x0 += k->pixels)
    {
      for (int row = 0; row < conv->in_channels * ks; row++)
        for (int kx = 0; kx < ks; kx++)
          copy_row (panel + (gsize) (row * ks + kx) * k->pixels,
                    phases + ((gsize) row * s + kx % s) * nq + kx / s + x0, k->pixels);
      tiles (conv, k, panel, dst + (gsize) y * out_w + x0, plane,
             MIN (k->pixels, out_w - x0), c0, c1);
    }
  bias_relu (conv, dst + (gsize) y * out_w, plane, out_w, c0, c1);
}

/* panel[(c ks + ky) ks + kx][j] = rows[c][ky][base[j] + kx], sample by
 * sample: compilers make scalar loads of it even where vector gathers
 * exist, so it is not cloned per vector width.
 */
static void
gather (const PercConv *conv,
        const float    *rows,
        gsize           channel,
        int             row_stride,
        const int      *base,
        int             pixels,
        float          *panel)
{
  for (int c = 0; c < conv->in_channels; c++)
    for (int ky = 0; ky < conv->kernel; ky++)
      for (int kx = 0; kx < conv->kernel; kx++, panel += pixels)
        {
          const float *r = rows + c * channel + (gsize) ky * row_stride + kx;

          for (int j = 0; j < pixels; j++)
            panel[j] = r[base[j]];
        }
}

/* Output pixels [first, end) of the flattened planes, channels [c0, c1),
 * for outputs narrower than a panel: a panel spans rows, so that small
 * layers fill their panels instead of one panel per row.  The input rows
 * a panel reads are copied with their padding first, so that each tap is
 * a gather.
 */
static void
gathered_pixels (const PercConv        *conv,
                 const PercMicrokernel *k,
                 const float           *src,
                 int                    height,
                 int                    width,
                 int                    out_w,
                 float                 *dst,
                 gsize                  plane,
                 gsize                  first,
                 gsize                  end,
                 int                    c0,
                 int                    c1,
                 float                 *panel,
                 float                 *rows)
{
  const int   s = conv->stride, pad = conv->pad, wp = width + 2 * pad;
  const gsize channel = (gsize) gathered_rows (conv, k, out_w) * wp;
  int        *base = (int *) (rows + conv->in_channels * channel);

  for (gsize p0 = first; p0 < end; p0 += k->pixels)
    {
      int cols = MIN ((gsize) k->pixels, end - p0);
      int r0 = (int) (p0 / out_w) * s - pad;
      int r1 = (int) ((p0 + cols - 1) / out_w) * s - pad + conv->kernel;

      for (int c = 0; c < conv->in_channels; c++)
        for (int iy = r0; iy < r1; iy++)
          {
            float *r = rows + c * channel + (gsize) (iy - r0) * wp;

            memset (r, 0, wp * sizeof (float));
            if (iy >= 0 && iy < height)
              memcpy (r + pad, src + ((gsize) c * height + iy) * width, width * sizeof (float));
          }
      /* Past the last pixel, any sample: those columns are not written. */
      for (int j = 0; j < k->pixels; j++)
        base[j] = j < cols ? ((int) ((p0 + j) / out_w) * s - pad - r0) * wp +
                             (int) ((p0 + j) % out_w) * s : 0;
      gather (conv, rows, channel, wp, base, k->pixels, panel);
      tiles (conv, k, panel, dst + p0, plane, cols, c0, c1);
      bias_relu (conv, dst + p0, plane, cols, c0, c1);
    }
}

/* Pixels [first, end), channels [c0, c1) of a 1x1 convolution: the input
 * planes already are the lowered matrix, copied a panel of pixels at a
 * time.
 */
static void
pointwise_pixels (const PercConv        *conv,
                  const PercMicrokernel *k,
                  const float           *src,
                  float                 *dst,
                  gsize                  plane,
                  gsize                  first,
                  gsize                  end,
                  int                    c0,
                  int                    c1,
                  float                 *panel)
{
  const int n = conv->in_channels;

  for (gsize x0 = first; x0 < end; x0 += k->pixels)
    {
      int cols = MIN ((gsize) k->pixels, end - x0);

      if (cols == k->pixels)
        for (int c = 0; c < n; c++)
          copy_row (panel + (gsize) c * k->pixels, src + c * plane + x0, k->pixels);
      else
        for (int c = 0; c < n; c++)
          {
            memcpy (panel + (gsize) c * k->pixels, src + c * plane + x0, cols * sizeof (float));
            memset (panel + (gsize) c * k->pixels + cols, 0, (k->pixels - cols) * sizeof (float));
          }
      tiles (conv, k, panel, dst + x0, plane, cols, c0, c1);
      bias_relu (conv, dst + x0, plane, cols, c0, c1);
    }
}

void
perc_lowered_forward_part (const PercConv *conv,
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
  const PercMicrokernel *k = conv->microkernel;
  const int              out_w = perc_conv_out_size (conv, width);
  const gsize            plane = (gsize) perc_conv_out_size (conv, height) * out_w;
  float                 *panel = perc_microkernel_align (scratch);
  float                 *rest = panel + perc_microkernel_panel_floats (k->pixels, depth (conv));

  if (is_pointwise (conv))
    pointwise_pixels (conv, k, src, dst, plane, (gsize) first * out_w, (gsize) end * out_w,
                      c0, c1, panel);
  else if (out_w < k->pixels)
    gathered_pixels (conv, k, src, height, width, out_w, dst, plane, (gsize) first * out_w,
                     (gsize) end * out_w, c0, c1, panel, rest);
  else
    for (int y = first; y < end; y++)
      lowered_row (conv, k, src, height, width, y, dst, out_w, plane, c0, c1, panel, rest);
}
