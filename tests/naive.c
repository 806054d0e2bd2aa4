#include <math.h>

#include "naive.h"

void
naive_conv (const float *src, int c, int h, int w,
            const float *weight, const float *bias,
            int out_c, int k, int stride, int pad, gboolean relu,
            float *dst)
{
  int oh = (h + 2 * pad - k) / stride + 1;
  int ow = (w + 2 * pad - k) / stride + 1;

  for (int o = 0; o < out_c; o++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++)
        {
          double sum = bias[o];

          for (int i = 0; i < c; i++)
            for (int ky = 0; ky < k; ky++)
              for (int kx = 0; kx < k; kx++)
                {
                  int iy = y * stride - pad + ky, ix = x * stride - pad + kx;

                  if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                    sum += (double) weight[((o * c + i) * k + ky) * k + kx] *
                           src[(i * h + iy) * w + ix];
                }
          dst[(o * oh + y) * ow + x] = relu && sum < 0 ? 0 : sum;
        }
}

/* Output size from PyTorch's documented formula for max pooling. */
static int
pool_size (int in, int k, int stride, int pad, gboolean ceil_mode)
{
  double q = (double) (in + 2 * pad - k) / stride;
  int    out = (int) (ceil_mode ? ceil (q) : floor (q)) + 1;

  if (ceil_mode && (out - 1) * stride >= in + pad)
    out--;
  return out;
}

void
naive_maxpool (const float *src, int c, int h, int w,
               int k, int stride, int pad, gboolean ceil_mode,
               float *dst, int *out_h, int *out_w)
{
  int oh = pool_size (h, k, stride, pad, ceil_mode);
  int ow = pool_size (w, k, stride, pad, ceil_mode);

  for (int i = 0; i < c; i++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++)
        {
          float m = -INFINITY;

          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
              {
                int iy = y * stride - pad + ky, ix = x * stride - pad + kx;

                if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                  m = fmaxf (m, src[(i * h + iy) * w + ix]);
              }
          dst[(i * oh + y) * ow + x] = m;
        }
  *out_h = oh;
  *out_w = ow;
}

/* align_corners=False: pixel centres line up; positions before the first
 * centre clamp to it, after the last one the last pixel repeats.
 */
static void
source (int i, int in, int out, int *i0, int *i1, double *frac)
{
  double s = ((double) in / out) * (i + 0.5) - 0.5;

  if (s < 0)
    s = 0;
  *i0 = (int) floor (s);
  if (*i0 > in - 1)
    *i0 = in - 1;
  *i1 = *i0 + 1 < in ? *i0 + 1 : in - 1;
  *frac = s - *i0;
}

void
naive_resize (const float *src, int sw, int sh, float *dst, int dw, int dh)
{
  for (int y = 0; y < dh; y++)
    for (int x = 0; x < dw; x++)
      {
        int    y0, y1, x0, x1;
        double fy, fx;

        source (y, sh, dh, &y0, &y1, &fy);
        source (x, sw, dw, &x0, &x1, &fx);
        dst[y * dw + x] =
          (1 - fy) * ((1 - fx) * src[y0 * sw + x0] + fx * src[y0 * sw + x1]) +
          fy * ((1 - fx) * src[y1 * sw + x0] + fx * src[y1 * sw + x1]);
      }
}

void
naive_difference (const float *f0, const float *f1, int c, int n,
                  const float *weights, float *out)
{
  for (int i = 0; i < n; i++)
    {
      double n0 = 0, n1 = 0, sum = 0;

      for (int j = 0; j < c; j++)
        {
          n0 += (double) f0[j * n + i] * f0[j * n + i];
          n1 += (double) f1[j * n + i] * f1[j * n + i];
        }
      n0 = sqrt (n0) + 1e-10;
      n1 = sqrt (n1) + 1e-10;
      for (int j = 0; j < c; j++)
        {
          double d = f0[j * n + i] / n0 - f1[j * n + i] / n1;

          sum += (weights ? weights[j] : 1.0) * d * d;
        }
      out[i] = sum;
    }
}

void
fill_random (float *x, gsize n, guint32 seed, float lo, float hi)
{
  GRand *r = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < n; i++)
    x[i] = g_rand_double_range (r, lo, hi);
  g_rand_free (r);
}

double
max_abs_diff (const float *a, const float *b, gsize n)
{
  double m = 0;

  for (gsize i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]);

      if (!(d <= m))          /* NaN counts as a difference */
        m = isnan (d) ? INFINITY : d;
    }
  return m;
}
