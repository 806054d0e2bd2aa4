/* Winograd convolution in bands of block rows.  For each band:
 *
 *   V[xi] = BT d B     per input channel and block   (alpha^2 x in x blocks)
 *   M[xi] = U[xi] V[xi]                               (alpha^2 products)
 *   y     = AT M A     per output channel and block, then bias and ReLU
 *
 * where U = G g GT are the transformed weights, packed when the model
 * loads; V is written straight into the micro-kernel's panels.  The
 * transforms run over the whole band at a time, so that every loop is over
 * contiguous floats: the input is first split into m x m phase planes
 * (y = r m + phase, x = q m + phase), which turns both passes into sums of
 * shifted planes.
 */
#include <math.h>
#include <string.h>

#include "ops/perc-microkernel.h"
#include "ops/perc-phases.h"
#include "ops/perc-vector.h"
#include "ops/perc-winograd.h"

/* Upper bound of a band's transformed input and output, in floats
 * (16 MiB).
 */
#define BAND_FLOATS (4 * 1024 * 1024)

/* Fewer channels leave the products too small to pay for the transforms. */
#define MIN_CHANNELS 16

static const double points[] = { 0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5 };

/* The transforms of F(m, r) by Toom-Cook interpolation at the first
 * alpha - 1 points and infinity: in one dimension, y = AT [(G g) . (BT d)]
 * for a filter g of r taps, an input d of alpha samples and an output y
 * of m.
 */
typedef struct
{
  int    m, alpha;
  float  bt[PERC_WINOGRAD_MAX_ALPHA][PERC_WINOGRAD_MAX_ALPHA];
  float  at[PERC_WINOGRAD_MAX_ALPHA][PERC_WINOGRAD_MAX_ALPHA];   /* m rows */
  double g[PERC_WINOGRAD_MAX_ALPHA][PERC_WINOGRAD_MAX_ALPHA];    /* r columns */
} Transforms;

static gboolean
valid (int m,
       int r)
{
  return m >= 1 && r >= 1 && m + r - 1 >= 2 && m + r - 1 <= PERC_WINOGRAD_MAX_ALPHA;
}

static void
transforms_init (Transforms *wino,
                 int         m,
                 int         r)
{
  int alpha = m + r - 1, n = alpha - 1;

  memset (wino, 0, sizeof *wino);
  wino->m = m;
  wino->alpha = alpha;
  /* Point j < n: BT's row holds the coefficients of prod_{k != j}
   * (x - p_k), G's row evaluates the filter at p_j divided by that
   * product's value there, AT's column evaluates the output there.  The
   * point at infinity takes the leading coefficients.
   */
  for (int j = 0; j <= n; j++)
    {
      double poly[PERC_WINOGRAD_MAX_ALPHA] = { 1.0 };
      double denominator = 1.0;
      int    degree = 0;

      for (int k = 0; k < n; k++)
        {
          if (k == j)
            continue;
          for (int d = degree + 1; d > 0; d--)
            poly[d] = poly[d - 1] - points[k] * poly[d];
          poly[0] *= -points[k];
          degree++;
          if (j < n)
            denominator *= points[j] - points[k];
        }
      for (int d = 0; d < alpha; d++)
        wino->bt[j][d] = poly[d];
      for (int i = 0; i < m; i++)
        wino->at[i][j] = j < n ? pow (points[j], i) : i == m - 1;
      for (int i = 0; i < r; i++)
        wino->g[j][i] = j < n ? pow (points[j], i) / denominator : i == r - 1;
    }
}

int
perc_winograd_block (const PercConv *conv)
{
  if (conv->stride != 1 ||
      conv->in_channels < MIN_CHANNELS || conv->out_channels < MIN_CHANNELS)
    return 0;
  if (conv->kernel == 3 || conv->kernel == 5)
    return 4;
  return 0;
}

gsize
perc_winograd_weights_size (const PercConv *conv,
                            int             m)
{
  gsize alpha = m + conv->kernel - 1;

  if (m == 0)
    return 0;
  g_return_val_if_fail (valid (m, conv->kernel), 0);
  return alpha * alpha *
         perc_microkernel_packed_floats (conv->microkernel, conv->out_channels,
                                         conv->in_channels) +
         PERC_MICROKERNEL_ALIGN;
}

const float *
perc_winograd_weights (const PercConv *conv,
                       int             m,
                       float          *dst)
{
  const int       r = conv->kernel, in = conv->in_channels, out = conv->out_channels;
  const PercMicrokernel *k = conv->microkernel;
  Transforms      w;
  gsize           per_xi;
  float          *u, *start;

  g_return_val_if_fail (valid (m, r), NULL);
  transforms_init (&w, m, r);
  per_xi = perc_microkernel_packed_floats (k, out, in);
  u = g_new (float, (gsize) w.alpha * w.alpha * out * in);
  for (int o = 0; o < out; o++)
    for (int c = 0; c < in; c++)
      {
        const float *g = conv->weight + ((gsize) o * in + c) * r * r;
        double       gt[PERC_WINOGRAD_MAX_ALPHA][PERC_WINOGRAD_MAX_ALPHA];

        for (int a = 0; a < w.alpha; a++)
          for (int v = 0; v < r; v++)
            {
              gt[a][v] = 0.0;
              for (int i = 0; i < r; i++)
                gt[a][v] += w.g[a][i] * g[i * r + v];
            }
        for (int a = 0; a < w.alpha; a++)
          for (int b = 0; b < w.alpha; b++)
            {
              double sum = 0.0;

              for (int v = 0; v < r; v++)
                sum += gt[a][v] * w.g[b][v];
              u[((gsize) (a * w.alpha + b) * out + o) * in + c] = sum;
            }
      }
  start = perc_microkernel_align (dst);
  for (int xi = 0; xi < w.alpha * w.alpha; xi++)
    perc_microkernel_pack_weights (k, u + (gsize) xi * out * in, out, in,
                                   start + xi * per_xi);
  g_free (u);
  return start;
}

/* A band's blocks are stored row by row, nq per row: the last
 * (alpha - 1) / m of each row are not blocks of the output but keep every
 * transform a pass over contiguous floats; the products compute them too
 * and the output transform leaves them out.  Where they would fill an
 * eighth of the panels or more, and where images whose blocks fit in a
 * panel share panels (perc_winograd_forward_images ()), V holds only the
 * output's blocks, bq a row, one image's after another's.
 */
typedef struct
{
  Transforms      w;
  PercMicrokernel k;
  int          out_h, out_w;
  int          nq;            /* blocks per row, and samples per phase of a split row */
  int          bq;            /* blocks of the output per row */
  int          block_rows;    /* of the output */
  int          band;          /* block rows per band */
  int          out_rows;      /* output channels rounded up to whole panels of U */
} Plan;

/* Panels of images' blocks computed at once, where images share them. */
#define JOINT_PANELS 4

/* Reads past a row's end stay inside the scratch memory. */
#define SLACK 8

/* A band of `rows` block rows: V's panels, M's row length. */
static int
band_panels (const Plan *p,
             int         rows)
{
  return (rows * p->nq + p->k.pixels - 1) / p->k.pixels;
}

/* V's and M's floats for `panels` panels of blocks. */
static gsize
v_floats (const Plan     *p,
          const PercConv *conv,
          int             panels)
{
  return (gsize) p->w.alpha * p->w.alpha * panels *
         perc_microkernel_panel_floats (p->k.pixels, conv->in_channels);
}

static gsize
m_floats (const Plan *p,
          int         panels)
{
  return (gsize) p->w.alpha * p->w.alpha * p->out_rows * panels * p->k.pixels;
}

static void
plan (const PercConv *conv,
      int             height,
      int             width,
      Plan           *p)
{
  const int m = conv->winograd_m;
  int       block_rows;

  transforms_init (&p->w, m, conv->kernel);
  p->k = *conv->microkernel;
  p->out_h = height + 2 * conv->pad - conv->kernel + 1;
  p->out_w = width + 2 * conv->pad - conv->kernel + 1;
  p->bq = (p->out_w + m - 1) / m;
  p->nq = p->bq + (p->w.alpha - 1) / m;
  p->out_rows = (conv->out_channels + p->k.outputs - 1) / p->k.outputs * p->k.outputs;
  p->block_rows = block_rows = (p->out_h + m - 1) / m;
  for (p->band = 1; p->band < block_rows; p->band++)
    if (v_floats (p, conv, band_panels (p, p->band + 1)) +
        m_floats (p, band_panels (p, p->band + 1)) > BAND_FLOATS)
      break;
}

/* Floats of the transforms' own buffers for `rows` block rows: the split
 * input, its horizontal pass and a line of the vertical one; the output's
 * two passes.
 */
static gsize
transform_floats (const Plan *p,
                  int         rows)
{
  const gsize m = p->w.m, alpha = p->w.alpha, nr = rows + (alpha - 1) / m;
  const gsize input = (m * m * nr + alpha * m * nr + rows) * p->nq;

  return MAX (input, (alpha * m + m) * rows * p->nq) + 2 * SLACK;
}

gboolean
perc_winograd_spans (const PercConv *conv,
                     int             height,
                     int             width)
{
  Plan p;

  plan (conv, height, width, &p);
  return p.band >= p.block_rows && p.block_rows * p.bq <= p.k.pixels;
}

gsize
perc_winograd_scratch_size (const PercConv *conv,
                            int             height,
                            int             width)
{
  Plan  p;
  gsize band, joint = 0;

  plan (conv, height, width, &p);
  band = v_floats (&p, conv, band_panels (&p, p.band)) + m_floats (&p, band_panels (&p, p.band));
  if (perc_winograd_spans (conv, height, width))
    joint = v_floats (&p, conv, JOINT_PANELS) + m_floats (&p, JOINT_PANELS);
  return PERC_MICROKERNEL_ALIGN + MAX (band, joint) + transform_floats (&p, p.band);
}

/* dst = sum of c[j] s[j] for j < terms (1 to 4) over n floats, added to
 * dst when `add`; dst is cut in pieces of `piece` floats, `stride` apart
 * (a piece for every panel of V).
 */
static inline void
sum_terms (float *restrict       dst,
           gsize                 piece,
           gsize                 stride,
           const float *const   *s,
           const float          *c,
           int                   terms,
           gsize                 n,
           gboolean              add)
{
  const float *restrict s0 = s[0], *restrict s1 = s[MIN (1, terms - 1)];
  const float *restrict s2 = s[MIN (2, terms - 1)], *restrict s3 = s[MIN (3, terms - 1)];
  const float           c0 = c[0], c1 = terms > 1 ? c[1] : 0.0f;
  const float           c2 = terms > 2 ? c[2] : 0.0f, c3 = terms > 3 ? c[3] : 0.0f;

  for (gsize x0 = 0; x0 < n; x0 += piece, dst += stride)
    {
      gsize                 len = MIN (piece, n - x0);
      float *restrict       d = dst;
      const float *restrict a = s0 + x0, *restrict b = s1 + x0;
      const float *restrict e = s2 + x0, *restrict f = s3 + x0;

      switch (terms * 2 + (add ? 1 : 0))
        {
        case 2: for (gsize x = 0; x < len; x++) d[x] = c0 * a[x]; break;
        case 3: for (gsize x = 0; x < len; x++) d[x] += c0 * a[x]; break;
        case 4: for (gsize x = 0; x < len; x++) d[x] = c0 * a[x] + c1 * b[x]; break;
        case 5: for (gsize x = 0; x < len; x++) d[x] += c0 * a[x] + c1 * b[x]; break;
        case 6:
          for (gsize x = 0; x < len; x++)
            d[x] = c0 * a[x] + c1 * b[x] + c2 * e[x];
          break;
        case 7:
          for (gsize x = 0; x < len; x++)
            d[x] += c0 * a[x] + c1 * b[x] + c2 * e[x];
          break;
        case 8:
          for (gsize x = 0; x < len; x++)
            d[x] = c0 * a[x] + c1 * b[x] + c2 * e[x] + c3 * f[x];
          break;
        default:
          for (gsize x = 0; x < len; x++)
            d[x] += c0 * a[x] + c1 * b[x] + c2 * e[x] + c3 * f[x];
          break;
        }
    }
}

/* dst = sum over j < count of coef[j] src[j], n floats, zero terms left
 * out, up to four terms per pass over dst; dst in pieces as sum_terms ()
 * has them.
 */
/* The transforms are short sums over whole rows. */
PERC_VECTOR_CLONES static void
combine (float *restrict      dst,
         gsize                piece,
         gsize                stride,
         const float *const  *src,
         const float         *coef,
         int                  count,
         gsize                n)
{
  const float *s[PERC_WINOGRAD_MAX_ALPHA];
  float        c[PERC_WINOGRAD_MAX_ALPHA];
  int          terms = 0;

  for (int j = 0; j < count; j++)
    if (coef[j] != 0.0f)
      {
        s[terms] = src[j];
        c[terms++] = coef[j];
      }
  if (terms == 0)
    for (gsize x0 = 0; x0 < n; x0 += piece)
      memset (dst + x0 / piece * stride, 0, MIN (piece, n - x0) * sizeof (float));
  for (int j = 0; j < terms; j += 4)
    sum_terms (dst, piece, stride, s + j, c + j, MIN (4, terms - j), n, j > 0);
}

/* Output row `line` of width from its m phases: line[x] = phases[(x % m)
 * * stride + x / m] + b, then ReLU.
 */
static inline void
merge_row_m (int          m,
             const float *phases,
             gsize        stride,
             int          width,
             float        b,
             gboolean     relu,
             float       *line)
{
  int whole = width / m * m;

  for (int x = 0; x < whole; x += m)
    for (int phase = 0; phase < m; phase++)
      line[x + phase] = phases[phase * stride + x / m] + b;
  for (int x = whole; x < width; x++)
    line[x] = phases[(x % m) * stride + x / m] + b;
  if (relu)
    for (int x = 0; x < width; x++)
      line[x] = MAX (line[x], 0.0f);
}


/* n floats from src to V's columns [column, column + n) of one xi and
 * channel (dst: its first panel's), across panels of `panel` floats.
 */
static void
to_panels (float       *dst,
           int          vp,
           gsize        panel,
           gsize        column,
           const float *src,
           int          n)
{
  while (n > 0)
    {
      int at = (int) (column % vp), len = MIN (n, vp - at);

      memcpy (dst + column / vp * panel + at, src, len * sizeof (float));
      column += len;
      src += len;
      n -= len;
    }
}

/* V of block rows [ty0, ty0 + rows), in the kernel's panels: for each
 * xi, panel after panel of v_panel blocks, channel by channel; `panels`
 * of them per xi.  With `shared`, only the output's blocks, bq a row, from
 * column `column` on: images that share panels.  The input is split into
 * m x m phase planes (rows and columns), so that both passes of the
 * transform are sums of shifted planes.
 */
static void
input_transform (const PercConv *conv,
                 const Plan     *p,
                 const float    *src,
                 int             height,
                 int             width,
                 int             ty0,
                 int             rows,
                 float          *v,
                 float          *tmp,
                 int             panels,
                 gboolean        shared,
                 gsize           column)
{
  const int    m = p->w.m, alpha = p->w.alpha, nq = p->nq, in = conv->in_channels;
  const int    nr = rows + (alpha - 1) / m;       /* rows of a phase plane */
  const int    vp = p->k.pixels;
  const gsize  blocks = (gsize) rows * nq, plane = (gsize) nr * nq;
  const gsize  panel = perc_microkernel_panel_floats (vp, in), per_xi = panels * panel;
  const gsize  tail = (gsize) panels * vp - blocks;
  float       *split = tmp, *horiz = split + (gsize) m * m * plane + SLACK;
  float       *line = horiz + (gsize) alpha * m * plane;
  const float *hsrc[PERC_WINOGRAD_MAX_ALPHA], *vsrc[PERC_WINOGRAD_MAX_ALPHA];

  memset (split + (gsize) m * m * plane, 0, SLACK * sizeof (float));
  for (int c = 0; c < in; c++)
    {
      const float *chan = src + (gsize) c * height * width;

      for (int r = 0; r < nr; r++)
        for (int py = 0; py < m; py++)
          perc_phases_split_row (chan, height, width, conv->pad, m, nq,
                               ty0 * m - conv->pad + r * m + py,
                               split + (gsize) py * m * plane + r * nq, plane);
      /* horiz[k][py] = BT's row k across each row of phase planes py. */
      for (int py = 0; py < m; py++)
        {
          for (int j = 0; j < alpha; j++)
            hsrc[j] = split + (gsize) (py * m + j % m) * plane + j / m;
          for (int k = 0; k < alpha; k++)
            combine (horiz + (gsize) (k * m + py) * plane, plane, 0, hsrc, p->w.bt[k],
                     alpha, plane);
        }
      /* V[i][k] = BT's row i down the columns of horiz[k]. */
      for (int k = 0; k < alpha; k++)
        {
          for (int j = 0; j < alpha; j++)
            vsrc[j] = horiz + (gsize) (k * m + j % m) * plane + (j / m) * nq;
          for (int i = 0; i < alpha; i++)
            {
              float *dst = v + (gsize) (i * alpha + k) * per_xi + (gsize) c * vp;

              if (shared)
                {
                  combine (line, blocks, 0, vsrc, p->w.bt[i], alpha, blocks);
                  for (int r = 0; r < rows; r++)
                    to_panels (dst, vp, panel, column + (gsize) r * p->bq, line + r * nq, p->bq);
                  continue;
                }
              combine (dst, vp, panel, vsrc, p->w.bt[i], alpha, blocks);
              /* Past the band's last block: zeros, not garbage. */
              memset (dst + (panels - 1) * panel + blocks % vp, 0, tail * sizeof (float));
            }
        }
    }
}

/* Output rows [first, end) of channels [c0, c1) of block rows
 * [ty0, ty0 + rows) from M (rows of ldm floats), with bias and ReLU; the
 * blocks from column `column` of M's rows on, `nq` of them a row.
 */
static void
output_transform (const PercConv *conv,
                  const Plan     *p,
                  const float    *mx,
                  gsize           ldm,
                  gsize           column,
                  int             nq,
                  int             ty0,
                  int             rows,
                  int             first,
                  int             end,
                  int             c0,
                  int             c1,
                  float          *dst,
                  float          *tmp)
{
  const int    m = p->w.m, alpha = p->w.alpha;
  const gsize  blocks = (gsize) rows * nq;
  float       *horiz = tmp, *out = tmp + alpha * m * blocks;
  const float *msrc[PERC_WINOGRAD_MAX_ALPHA], *hsrc[PERC_WINOGRAD_MAX_ALPHA];

  for (int o = c0; o < c1; o++)
    {
      const float b = conv->bias[o];
      float      *plane = dst + (gsize) o * p->out_h * p->out_w;

      for (int i = 0; i < alpha; i++)
        {
          for (int k = 0; k < alpha; k++)
            msrc[k] = mx + ((gsize) (i * alpha + k) * p->out_rows + o) * ldm + column;
          for (int kx = 0; kx < m; kx++)
            combine (horiz + (i * m + kx) * blocks, blocks, 0, msrc, p->w.at[kx], alpha,
                     blocks);
        }
      for (int ky = 0; ky < m; ky++)
        {
          for (int kx = 0; kx < m; kx++)
            {
              for (int i = 0; i < alpha; i++)
                hsrc[i] = horiz + (i * m + kx) * blocks;
              combine (out + kx * blocks, blocks, 0, hsrc, p->w.at[ky], alpha, blocks);
            }
          for (int row = 0; row < rows; row++)
            {
              int    y = (ty0 + row) * m + ky;
              float *line = plane + (gsize) y * p->out_w;

              if (y < first || y >= end)
                continue;
              PERC_WITH_M (merge_row_m, m, out + row * nq, blocks, p->out_w, b, conv->relu, line);
            }
        }
    }
}

/* M[xi] = U[xi] V[xi] for the band, the panels of U that hold channels
 * [c0, c1), a tile at a time; U's panel stays in the first-level cache
 * while V's pass by.
 */
static void
products (const PercConv *conv,
          const Plan     *p,
          int             panels,
          int             c0,
          int             c1,
          const float    *v,
          float          *mx)
{
  const int   in = conv->in_channels;
  const int   vp = p->k.pixels, up = p->k.outputs;
  const gsize ldm = (gsize) panels * vp;
  const gsize v_panel = perc_microkernel_panel_floats (vp, in);
  const gsize u_panel = perc_microkernel_panel_floats (up, in);

  for (int xi = 0; xi < p->w.alpha * p->w.alpha; xi++)
    {
      const float *vx = v + (gsize) xi * panels * v_panel;
      float       *m = mx + (gsize) xi * p->out_rows * ldm;

      for (int o = c0 / up * up; o < c1; o += up)
        {
          const float *u = conv->winograd_weight +
                           ((gsize) xi * p->out_rows + o) / up * u_panel;

          for (int q = 0; q < panels; q++)
            perc_microkernel_tile (&p->k, in, vx + q * v_panel, u,
                                   m + (gsize) o * ldm + (gsize) q * vp, ldm, 0, up, vp, NULL,
                                   FALSE);
        }
    }
}

/* Zeros past the first `blocks` columns of V's `panels` panels, where
 * input_transform () packed them: not garbage for the products.
 */
static void
zero_tail (const PercConv *conv,
           const Plan     *p,
           float          *v,
           int             panels,
           int             blocks)
{
  const int   vp = p->k.pixels, used = blocks - (panels - 1) * vp;
  const gsize panel = perc_microkernel_panel_floats (vp, conv->in_channels);

  for (int xi = 0; xi < p->w.alpha * p->w.alpha; xi++)
    for (int c = 0; c < conv->in_channels; c++)
      memset (v + ((gsize) xi * panels + panels - 1) * panel + (gsize) c * vp + used, 0,
              (vp - used) * sizeof (float));
}

void
perc_winograd_forward_part (const PercConv *conv,
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
  const int m = conv->winograd_m;
  Plan      p;

  plan (conv, height, width, &p);
  scratch = perc_microkernel_align (scratch);
  for (int ty0 = first / m; ty0 * m < end; ty0 += p.band)
    {
      int      rows = MIN (p.band, (end + m - 1) / m - ty0), panels = band_panels (&p, rows);
      int      packed = (rows * p.bq + p.k.pixels - 1) / p.k.pixels;
      /* Without the row ends' extra blocks where that saves an eighth of
       * the panels or more (on outputs a few blocks wide).
       */
      gboolean shared = 8 * packed <= 7 * panels;
      float   *v = scratch, *mx, *tmp;

      if (shared)
        panels = packed;
      mx = v + v_floats (&p, conv, panels);
      tmp = mx + m_floats (&p, panels);
      input_transform (conv, &p, src, height, width, ty0, rows, v, tmp, panels, shared, 0);
      if (shared)
        zero_tail (conv, &p, v, panels, rows * p.bq);
      products (conv, &p, panels, c0, c1, v, mx);
      output_transform (conv, &p, mx, (gsize) panels * p.k.pixels, 0, shared ? p.bq : p.nq,
                        ty0, rows, first, end, c0, c1, dst, tmp);
    }
}

void
perc_winograd_forward_images (const PercConv     *conv,
                              const float *const *src,
                              int                 n,
                              int                 height,
                              int                 width,
                              float *const       *dst,
                              float              *scratch,
                              int                 c0,
                              int                 c1)
{
  Plan        p;
  int         blocks, group, vp;
  float      *v, *mx, *tmp;

  g_return_if_fail (perc_winograd_spans (conv, height, width));
  plan (conv, height, width, &p);
  vp = p.k.pixels;
  blocks = p.block_rows * p.bq;
  group = JOINT_PANELS * vp / blocks;
  v = perc_microkernel_align (scratch);
  mx = v + v_floats (&p, conv, JOINT_PANELS);
  tmp = mx + m_floats (&p, JOINT_PANELS);
  for (int j0 = 0; j0 < n; j0 += group)
    {
      int g = MIN (group, n - j0), panels = (g * blocks + vp - 1) / vp;

      for (int j = 0; j < g; j++)
        input_transform (conv, &p, src[j0 + j], height, width, 0, p.block_rows, v, tmp, panels,
                         TRUE, (gsize) j * blocks);
      zero_tail (conv, &p, v, panels, g * blocks);
      products (conv, &p, panels, c0, c1, v, mx);
      for (int j = 0; j < g; j++)
        output_transform (conv, &p, mx, (gsize) panels * vp, (gsize) j * blocks, p.bq, 0,
                          p.block_rows, 0, p.out_h, c0, c1, dst[j0 + j], tmp);
    }
}
