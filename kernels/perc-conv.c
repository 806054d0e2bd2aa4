/* Convolution as a matrix product: weights [out x in*k*k] times the
 * im2col matrix [in*k*k x pixels].  A 1x1 convolution with stride 1 needs
 * no im2col: the input already is that matrix.  Larger inputs are lowered
 * in bands of output rows so that the im2col matrix stays small.
 */
#include <string.h>
#include <blis.h>

#include "perc-conv.h"

/* Upper bound of the im2col band, in floats (16 MiB). */
#define BAND_FLOATS (4 * 1024 * 1024)

static inline int
out_size (const PercConv *conv, int size)
{
  return (size + 2 * conv->pad - conv->kernel) / conv->stride + 1;
}

static gboolean
is_pointwise (const PercConv *conv)
{
  return conv->kernel == 1 && conv->stride == 1 && conv->pad == 0;
}

static int
band_rows (const PercConv *conv, int out_h, int out_w)
{
  gsize rows_k = (gsize) conv->in_channels * conv->kernel * conv->kernel;
  gsize rows = BAND_FLOATS / MAX (rows_k * out_w, 1);

  if (is_pointwise (conv))
    return out_h;
  return CLAMP (rows, 1, (gsize) out_h);
}

gsize
perc_conv_scratch_size (const PercConv *conv,
                        int             height,
                        int             width)
{
  int out_h = out_size (conv, height), out_w = out_size (conv, width);

  if (is_pointwise (conv))
    return 0;
  return (gsize) conv->in_channels * conv->kernel * conv->kernel *
         band_rows (conv, out_h, out_w) * out_w;
}

/* Rows [y0, y1) of the im2col matrix's columns: one row per (c, ky, kx),
 * one column per output pixel of the band.
 */
static void
im2col (const PercConv *conv,
        const float    *src,
        int             height,
        int             width,
        int             out_w,
        int             y0,
        int             y1,
        float          *cols)
{
  const int k = conv->kernel, s = conv->stride, p = conv->pad;
  const int n = (y1 - y0) * out_w;

  for (int c = 0; c < conv->in_channels; c++)
    for (int ky = 0; ky < k; ky++)
      for (int kx = 0; kx < k; kx++)
        {
          const float *plane = src + (gsize) c * height * width;
          float       *row = cols + ((gsize) (c * k + ky) * k + kx) * n;
          /* Output columns whose tap kx falls inside the input. */
          int last = width - 1 + p - kx;
          int x_lo = MAX (0, (p - kx + s - 1) / s);
          int x_hi = last < 0 ? 0 : MIN (out_w, last / s + 1);

          for (int y = y0; y < y1; y++, row += out_w)
            {
              int          iy = y * s - p + ky;
              const float *in;

              if (iy < 0 || iy >= height || x_lo >= x_hi)
                {
                  memset (row, 0, out_w * sizeof (float));
                  continue;
                }
              in = plane + (gsize) iy * width - p + kx;
              memset (row, 0, x_lo * sizeof (float));
              if (s == 1)
                memcpy (row + x_lo, in + x_lo, (x_hi - x_lo) * sizeof (float));
              else
                for (int x = x_lo; x < x_hi; x++)
                  row[x] = in[x * s];
              memset (row + x_hi, 0, (out_w - x_hi) * sizeof (float));
            }
        }
}

static void
bias_relu (const PercConv *conv,
           float          *dst,
           gsize           plane,
           gsize           n)
{
  for (int o = 0; o < conv->out_channels; o++)
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

void
perc_conv_forward_rows (const PercConv *conv,
                        const float    *src,
                        int             height,
                        int             width,
                        float          *dst,
                        float          *scratch,
                        int             threads,
                        int             first,
                        int             end)
{
  const int   out_h = out_size (conv, height), out_w = out_size (conv, width);
  const gsize plane = (gsize) out_h * out_w;
  const int   depth = conv->in_channels * conv->kernel * conv->kernel;
  const int   rows = band_rows (conv, out_h, out_w);
  float       one = 1.0f, zero = 0.0f;
  rntm_t      rntm = BLIS_RNTM_INITIALIZER;

  /* A thread count of this call's own, or BLIS's process-wide one. */
  if (threads > 0)
    bli_rntm_set_num_threads (threads, &rntm);
  for (int y0 = first; y0 < end; y0 += rows)
    {
      int          y1 = MIN (y0 + rows, end);
      gsize        n = (gsize) (y1 - y0) * out_w;
      const float *b = src + (gsize) y0 * out_w;

      if (!is_pointwise (conv))
        {
          im2col (conv, src, height, width, out_w, y0, y1, scratch);
          b = scratch;
        }
      /* BLIS takes non-const operands but does not write A or B. */
      bli_sgemm_ex (BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE,
                    conv->out_channels, n, depth,
                    &one,
                    (float *) conv->weight, depth, 1,
                    (float *) b, is_pointwise (conv) ? (inc_t) plane : (inc_t) n, 1,
                    &zero,
                    dst + (gsize) y0 * out_w, plane, 1,
                    NULL, threads > 0 ? &rntm : NULL);
      bias_relu (conv, dst + (gsize) y0 * out_w, plane, n);
    }
}

void
perc_conv_forward (const PercConv *conv,
                   const float    *src,
                   int             height,
                   int             width,
                   float          *dst,
                   float          *scratch,
                   int             threads)
{
  perc_conv_forward_rows (conv, src, height, width, dst, scratch, threads,
                          0, out_size (conv, height));
}
