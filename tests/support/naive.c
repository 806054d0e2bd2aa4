#include <math.h>

#include "support/naive.h"

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
naive_product (const float *weights, const float *image, int rows, int cols,
               int depth, gsize image_stride, double *c, gsize ldc)
{
  for (int o = 0; o < rows; o++)
    for (int x = 0; x < cols; x++)
      {
        double sum = 0;

        for (int d = 0; d < depth; d++)
          sum += (double) weights[(gsize) o * depth + d] * image[d * image_stride + x];
        c[o * ldc + x] = sum;
      }
}

void
naive_split_row (const float *plane, int h, int w, int pad, int m, int nq,
                 int iy, float *out, gsize stride)
{
  for (int phase = 0; phase < m; phase++)
    for (int q = 0; q < nq; q++)
      {
        int x = q * m + phase - pad;

        out[phase * stride + q] = iy >= 0 && iy < h && x >= 0 && x < w ?
                                  plane[(gsize) iy * w + x] : 0.0f;
      }
}

void
naive_image_input (const float *rgb, int w, int h, gsize rowstride,
                   gboolean scaling, double *dst)
{
  /* LPIPS's ScalingLayer. */
  static const double shift[3] = { -0.030, -0.088, -0.188 };
  static const double scale[3] = { 0.458, 0.448, 0.450 };

  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          double v = 2.0 * rgb[y * rowstride + 3 * x + c] - 1.0;

          dst[((gsize) c * h + y) * w + x] = scaling ? (v - shift[c]) / scale[c] : v;
        }
}

/* The mean of each channel, divided by the vector's norm + eps. */
static double *
normalised_means (const float *f, int c, gsize n)
{
  double *m = g_new (double, c), norm = 0;

  for (int k = 0; k < c; k++)
    {
      m[k] = 0;
      for (gsize i = 0; i < n; i++)
        m[k] += f[k * n + i];
      m[k] /= n;
      norm += m[k] * m[k];
    }
  for (int k = 0; k < c; k++)
    m[k] /= sqrt (norm) + 1e-10;
  return m;
}

double
naive_mean_pool_term (const float *f0, const float *f1, int c, gsize n)
{
  double *m0 = normalised_means (f0, c, n), *m1 = normalised_means (f1, c, n);
  double  sum = 0;

  for (int k = 0; k < c; k++)
    sum += (m0[k] - m1[k]) * (m0[k] - m1[k]);
  g_free (m0);
  g_free (m1);
  return sum / c;
}

/* G = (1/n) sum over positions of f^ f^T, f^ = f / (|f| + eps). */
static double *
gram (const float *f, int c, gsize n)
{
  double *g = g_new0 (double, (gsize) c * c), *v = g_new (double, c);

  for (gsize i = 0; i < n; i++)
    {
      double norm = 0;

      for (int k = 0; k < c; k++)
        norm += (double) f[k * n + i] * f[k * n + i];
      for (int k = 0; k < c; k++)
        v[k] = f[k * n + i] / (sqrt (norm) + 1e-10);
      for (int a = 0; a < c; a++)
        for (int b = 0; b < c; b++)
          g[a * c + b] += v[a] * v[b] / n;
    }
  g_free (v);
  return g;
}

double
naive_style_term (const float *f0, const float *f1, int c, gsize n)
{
  double *g0 = gram (f0, c, n), *g1 = gram (f1, c, n);
  double  sum = 0;

  for (gsize i = 0; i < (gsize) c * c; i++)
    sum += (g0[i] - g1[i]) * (g0[i] - g1[i]);
  g_free (g0);
  g_free (g1);
  return sum / ((double) c * c);
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
