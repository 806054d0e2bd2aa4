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

/* Images a panel of pixels reaches into at most, outputs of `plane`
 * pixels each.
 */
static int
spanned_images (const PercMicrokernel *k,
                gsize                  plane)
{
  return (int) MIN ((gsize) k->pixels, (k->pixels - 1) / plane + 2);
}

/* Floats past the panel: the input rows of a panel with their padding,
 * from every image it reaches into, and where each pixel starts; or the
 * split input rows of an output row.
 */
static gsize
rows_floats (const PercConv        *conv,
             const PercMicrokernel *k,
             int                    height,
             int                    width)
{
  const int out_w = perc_conv_out_size (conv, width);

  if (is_pointwise (conv))
    return 0;
  if (out_w < k->pixels)
    return (gsize) conv->in_channels * gathered_rows (conv, k, out_w) * (width + 2 * conv->pad) *
           spanned_images (k, (gsize) perc_conv_out_size (conv, height) * out_w) + k->pixels;
  return (gsize) conv->in_channels * conv->kernel * conv->stride * split_width (conv, k, out_w);
}

/* The rows, then a tile for the products of a panel across images. */
gsize
perc_lowered_scratch_size (const PercConv *conv,
                           int             height,
                           int             width)
{
  const PercMicrokernel *k = conv->microkernel;

  return PERC_MICROKERNEL_ALIGN + perc_microkernel_panel_floats (k->pixels, depth (conv)) +
         rows_floats (conv, k, height, width) + (gsize) conv->out_channels * k->pixels;
}

/* Channels [c0, c1) of a panel of pixels, channel c0's at dst, with bias
 * and ReLU: whole panels of weights where the range holds them, part of
 * one at its ends.
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
                             dst + (o - c0) * plane, plane, skip, rows, cols, conv->bias + o,
                             conv->relu);
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
      tiles (conv, k, panel, dst + c0 * plane + (gsize) y * out_w + x0, plane,
             MIN (k->pixels, out_w - x0), c0, c1);
    }
}

#if defined (__x86_64__) && defined (__has_attribute)
#if __has_attribute (target)
#define HAVE_RUNS 1
#endif
#endif

/* Up to 16 pixels of a panel whose samples follow each other: its first
 * column, its first sample; the columns of the panel past its pixels are
 * runs of zeros (sample -1).
 */
typedef struct
{
  int column, sample, n;
} Run;

#ifdef HAVE_RUNS
#include <immintrin.h>

/* A row of a panel from a row of samples, a masked vector load and store
 * per run.
 */
__attribute__ ((target ("avx512f"))) static void
copy_runs (const float *r,
           const Run   *run,
           int          n_runs,
           float       *row)
{
  for (int i = 0; i < n_runs; i++)
    {
      __mmask16 m = (__mmask16) ((1u << run[i].n) - 1);
      __m512    v = run[i].sample < 0 ? _mm512_setzero_ps ()
                                      : _mm512_maskz_loadu_ps (m, r + run[i].sample);

      _mm512_mask_storeu_ps (row + run[i].column, m, v);
    }
}
#endif

/* The runs of a panel's pixels at stride 1, where an output row's pixels
 * read consecutive samples and the processor has masked vector loads;
 * else 0.
 */
static int
find_runs (const PercConv *conv,
           const int      *base,
           int             cols,
           int             pixels,
           Run            *run)
{
  int n = 0;

#ifdef HAVE_RUNS
  if (conv->stride != 1 || !__builtin_cpu_supports ("avx512f"))
    return 0;
  for (int j = 0; j < pixels; j++)
    {
      int  sample = j < cols ? base[j] : -1;
      Run *last = n > 0 ? &run[n - 1] : NULL;

      if (last && last->n < 16 &&
          (sample < 0 ? last->sample < 0 : last->sample >= 0 &&
                                           sample == last->sample + last->n))
        last->n++;
      else
        run[n++] = (Run) { j, sample, 1 };
    }
#endif
  return n;
}

/* panel[(c ks + ky) ks + kx][j] = rows[c][ky][base[j] + kx], for the
 * first `cols` pixels (base[j] where pixel j's window starts): by runs
 * where there are, else sample by sample, as compilers make scalar loads
 * of it even where vector gathers exist.
 */
static void
gather (const PercConv *conv,
        const float    *rows,
        gsize           channel,
        int             row_stride,
        const int      *base,
        int             cols,
        int             pixels,
        float          *panel)
{
  Run run[PERC_MICROKERNEL_MAX_SIDE];
  int n_runs = find_runs (conv, base, cols, pixels, run);

  for (int c = 0; c < conv->in_channels; c++)
    for (int ky = 0; ky < conv->kernel; ky++)
      for (int kx = 0; kx < conv->kernel; kx++, panel += pixels)
        {
          const float *r = rows + c * channel + (gsize) ky * row_stride + kx;

#ifdef HAVE_RUNS
          if (n_runs > 0)
            {
              copy_runs (r, run, n_runs, panel);
              continue;
            }
#endif
          for (int j = 0; j < pixels; j++)
            panel[j] = r[base[j]];
        }
}

/* A panel's pixels from one image: the image, where its pixels start in
 * it and in the panel, how many.
 */
typedef struct
{
  int   image;
  gsize first;
  int   column, n;
} Segment;

/* The images' pixels [p0, p0 + cols) of their flattened outputs, of
 * `plane` pixels each, by image; returns how many segments.
 */
static int
segments (gsize    p0,
          int      cols,
          gsize    plane,
          Segment *seg)
{
  int n = 0;

  for (int j = 0; j < cols; n++)
    {
      gsize p = p0 + j;

      seg[n] = (Segment) { (int) (p / plane), p % plane, j, 0 };
      seg[n].n = (int) MIN ((gsize) (cols - j), plane - seg[n].first);
      j += seg[n].n;
    }
  return n;
}

/* A panel's products to the images' outputs, with bias and ReLU: straight
 * into the image's planes if it holds the whole panel, else through
 * `tile`, its segments copied out.
 */
static void
products (const PercConv        *conv,
          const PercMicrokernel *k,
          const float           *panel,
          float *const          *dst,
          gsize                  plane,
          const Segment         *seg,
          int                    n_seg,
          int                    c0,
          int                    c1,
          float                 *tile)
{
  if (n_seg == 1)
    {
      float *d = dst[seg[0].image] + seg[0].first;

      tiles (conv, k, panel, d + c0 * plane, plane, seg[0].n, c0, c1);
      return;
    }
  tiles (conv, k, panel, tile, k->pixels, seg[n_seg - 1].column + seg[n_seg - 1].n, c0, c1);
  for (int i = 0; i < n_seg; i++)
    {
      float *d = dst[seg[i].image] + seg[i].first;

      for (int o = c0; o < c1; o++)
        memcpy (d + o * plane, tile + (gsize) (o - c0) * k->pixels + seg[i].column,
                seg[i].n * sizeof (float));
    }
}

/* Pixels [first, end) of the images' flattened outputs, channels
 * [c0, c1), for outputs narrower than a panel: a panel spans rows, and
 * images, so that small layers fill their panels instead of one panel per
 * row.  The input rows a panel reads are copied with their padding first,
 * image after image, so that each tap is a gather.
 */
static void
gathered_pixels (const PercConv        *conv,
                 const PercMicrokernel *k,
                 const float *const    *src,
                 int                    height,
                 int                    width,
                 float *const          *dst,
                 gsize                  first,
                 gsize                  end,
                 int                    c0,
                 int                    c1,
                 float                 *panel,
                 float                 *tile,
                 float                 *rows)
{
  const int   s = conv->stride, pad = conv->pad, wp = width + 2 * pad;
  const int   out_w = perc_conv_out_size (conv, width);
  const gsize plane = (gsize) perc_conv_out_size (conv, height) * out_w;
  /* The rows of all the images a panel can reach, then where its pixels
   * start; a panel's rows are packed at the stride of the ones it reads.
   */
  const gsize most = (gsize) gathered_rows (conv, k, out_w) * wp * spanned_images (k, plane);
  int        *base = (int *) (rows + conv->in_channels * most);
  Segment     seg[PERC_MICROKERNEL_MAX_SIDE];
  int         r0[PERC_MICROKERNEL_MAX_SIDE], r1[PERC_MICROKERNEL_MAX_SIDE];

  for (gsize p0 = first; p0 < end; p0 += k->pixels)
    {
      int   cols = MIN ((gsize) k->pixels, end - p0);
      int   n_seg = segments (p0, cols, plane, seg), row = 0;
      gsize channel;

      for (int i = 0; i < n_seg; i++)
        {
          r0[i] = (int) (seg[i].first / out_w) * s - pad;
          r1[i] = (int) ((seg[i].first + seg[i].n - 1) / out_w) * s - pad + conv->kernel;
          row += r1[i] - r0[i];
        }
      channel = (gsize) row * wp;
      row = 0;
      for (int i = 0; i < n_seg; i++)
        {
          const float *in = src[seg[i].image];

          for (int c = 0; c < conv->in_channels; c++)
            for (int iy = r0[i]; iy < r1[i]; iy++)
              {
                float *r = rows + c * channel + (gsize) (row + iy - r0[i]) * wp;

                memset (r, 0, wp * sizeof (float));
                if (iy >= 0 && iy < height)
                  memcpy (r + pad, in + ((gsize) c * height + iy) * width, width * sizeof (float));
              }
          for (int j = 0; j < seg[i].n; j++)
            {
              gsize q = seg[i].first + j;

              base[seg[i].column + j] = (row + (int) (q / out_w) * s - pad - r0[i]) * wp +
                                        (int) (q % out_w) * s;
            }
          row += r1[i] - r0[i];
        }
      /* Past the last pixel, any sample: those columns are not written. */
      for (int j = cols; j < k->pixels; j++)
        base[j] = 0;
      gather (conv, rows, channel, wp, base, cols, k->pixels, panel);
      products (conv, k, panel, dst, plane, seg, n_seg, c0, c1, tile);
    }
}

/* Pixels [first, end) of the images' flattened outputs, channels
 * [c0, c1), of a 1x1 convolution: the input planes already are the
 * lowered matrix, copied a panel of pixels at a time.
 */
static void
pointwise_pixels (const PercConv        *conv,
                  const PercMicrokernel *k,
                  const float *const    *src,
                  float *const          *dst,
                  gsize                  plane,
                  gsize                  first,
                  gsize                  end,
                  int                    c0,
                  int                    c1,
                  float                 *panel,
                  float                 *tile)
{
  const int n = conv->in_channels;
  Segment   seg[PERC_MICROKERNEL_MAX_SIDE];

  for (gsize x0 = first; x0 < end; x0 += k->pixels)
    {
      int cols = MIN ((gsize) k->pixels, end - x0);
      int n_seg = segments (x0, cols, plane, seg);

      if (n_seg == 1 && cols == k->pixels)
        for (int c = 0; c < n; c++)
          copy_row (panel + (gsize) c * k->pixels, src[seg[0].image] + c * plane + seg[0].first,
                    k->pixels);
      else
        for (int c = 0; c < n; c++)
          {
            for (int i = 0; i < n_seg; i++)
              memcpy (panel + (gsize) c * k->pixels + seg[i].column,
                      src[seg[i].image] + c * plane + seg[i].first, seg[i].n * sizeof (float));
            memset (panel + (gsize) c * k->pixels + cols, 0, (k->pixels - cols) * sizeof (float));
          }
      products (conv, k, panel, dst, plane, seg, n_seg, c0, c1, tile);
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

  if (out_w < k->pixels || is_pointwise (conv))
    perc_lowered_forward_images (conv, &src, height, width, &dst, scratch,
                                 (gsize) first * out_w, (gsize) end * out_w, c0, c1);
  else
    for (int y = first; y < end; y++)
      lowered_row (conv, k, src, height, width, y, dst, out_w, plane, c0, c1, panel, rest);
}

void
perc_lowered_forward_images (const PercConv     *conv,
                             const float *const *src,
                             int                 height,
                             int                 width,
                             float *const       *dst,
                             float              *scratch,
                             gsize               first,
                             gsize               end,
                             int                 c0,
                             int                 c1)
{
  const PercMicrokernel *k = conv->microkernel;
  const int              out_w = perc_conv_out_size (conv, width);
  const gsize            plane = (gsize) perc_conv_out_size (conv, height) * out_w;
  float                 *panel = perc_microkernel_align (scratch);
  float                 *rest = panel + perc_microkernel_panel_floats (k->pixels, depth (conv));
  float                 *tile = rest + rows_floats (conv, k, height, width);

  if (is_pointwise (conv))
    pointwise_pixels (conv, k, src, dst, plane, first, end, c0, c1, panel, tile);
  else
    gathered_pixels (conv, k, src, height, width, dst, first, end, c0, c1, panel, tile, rest);
}
