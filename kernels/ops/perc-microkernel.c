#include <string.h>

#include "ops/perc-microkernel.h"
#include "ops/perc-vector.h"

#define ALIGN PERC_MICROKERNEL_ALIGN
#define ROUND_UP(n, to) (((n) + (to) - 1) / (to) * (to))

#define MAX_TILE (PERC_MICROKERNEL_MAX_SIDE * PERC_MICROKERNEL_MAX_SIDE)

void
perc_microkernel_query (PercMicrokernel *k)
{
  int mr, nr;

  k->cntx = bli_gks_query_cntx ();
#ifdef BLIS_VERSION_STRING
  k->run = (PercBlisKernel) bli_cntx_get_ukr_dt (BLIS_FLOAT, BLIS_GEMM_UKR, k->cntx);
#else
  k->run = (PercBlisKernel) bli_cntx_get_l3_nat_ukr_dt (BLIS_FLOAT, BLIS_GEMM_UKR, k->cntx);
#endif
  mr = bli_cntx_get_blksz_def_dt (BLIS_FLOAT, BLIS_MR, k->cntx);
  nr = bli_cntx_get_blksz_def_dt (BLIS_FLOAT, BLIS_NR, k->cntx);
  /* Results are stored a channel per row, pixels along it: a kernel that
   * writes columns best takes the image's side first.
   */
#ifdef BLIS_VERSION_STRING
  k->pixels_first = bli_cntx_ukr_prefers_cols_dt (BLIS_FLOAT, BLIS_GEMM_UKR, k->cntx);
#else
  k->pixels_first = bli_cntx_l3_nat_ukr_prefers_cols_dt (BLIS_FLOAT, BLIS_GEMM_UKR, k->cntx);
#endif
  k->pixels = k->pixels_first ? mr : nr;
  k->outputs = k->pixels_first ? nr : mr;
  g_assert (mr <= PERC_MICROKERNEL_MAX_SIDE && nr <= PERC_MICROKERNEL_MAX_SIDE);
}

char *
perc_microkernel_describe (const PercMicrokernel *k)
{
  /* The tile as BLIS names it: MR x NR. */
  return g_strdup_printf ("BLIS %s, %s kernels (%d x %d tiles)",
                          bli_info_get_version_str (),
                          bli_arch_string (bli_arch_query_id ()),
                          k->pixels_first ? k->pixels : k->outputs,
                          k->pixels_first ? k->outputs : k->pixels);
}

gsize
perc_microkernel_panel_floats (int width,
                               int depth)
{
  return ROUND_UP ((gsize) width * depth, ALIGN);
}

float *
perc_microkernel_align (float *p)
{
  return (float *) ROUND_UP ((guintptr) p, ALIGN * sizeof (float));
}

gsize
perc_microkernel_packed_floats (const PercMicrokernel *k,
                                int                    rows,
                                int                    depth)
{
  return (gsize) (rows + k->outputs - 1) / k->outputs *
         perc_microkernel_panel_floats (k->outputs, depth);
}

gsize
perc_microkernel_weights_size (const PercMicrokernel *k,
                               int                    rows,
                               int                    depth)
{
  return perc_microkernel_packed_floats (k, rows, depth) + ALIGN;
}

float *
perc_microkernel_pack_weights (const PercMicrokernel *k,
                               const float           *weights,
                               int                    rows,
                               int                    depth,
                               float                 *dst)
{
  const gsize panel = perc_microkernel_panel_floats (k->outputs, depth);
  const int   panels = (rows + k->outputs - 1) / k->outputs;

  dst = perc_microkernel_align (dst);
  memset (dst, 0, panels * panel * sizeof (float));
  for (int o = 0; o < rows; o++)
    for (int d = 0; d < depth; d++)
      dst[o / k->outputs * panel + (gsize) d * k->outputs + o % k->outputs] =
        weights[(gsize) o * depth + d];
  return dst;
}

/* Bias, and ReLU where asked, on a tile's rows x cols in place, rows
 * ld apart: while the tile is still in the first-level cache.
 */
PERC_VECTOR_CLONES static void
finish_in_place (float       *c,
                 gsize        ld,
                 int          rows,
                 int          cols,
                 const float *bias,
                 gboolean     relu)
{
  for (int o = 0; o < rows; o++)
    {
      float      *d = c + o * ld;
      const float b = bias[o];

      if (relu)
        for (int x = 0; x < cols; x++)
          d[x] = MAX (d[x] + b, 0.0f);
      else
        for (int x = 0; x < cols; x++)
          d[x] += b;
    }
}

/* The same, copying the tile from `part` (a row per k->pixels) to c.
 * Apart from the one in place: one loop for both would check at run time
 * whether its rows overlap, and fall back to scalar code where they do.
 */
PERC_VECTOR_CLONES static void
finish_copy (float *restrict       c,
             gsize                 ldc,
             const float *restrict part,
             int                   pixels,
             int                   rows,
             int                   cols,
             const float          *bias,
             gboolean              relu)
{
  for (int o = 0; o < rows; o++)
    {
      float *restrict       d = c + o * ldc;
      const float *restrict s = part + (gsize) o * pixels;
      const float           b = bias ? bias[o] : 0.0f;

      if (relu)
        for (int x = 0; x < cols; x++)
          d[x] = MAX (s[x] + b, 0.0f);
      else
        for (int x = 0; x < cols; x++)
          d[x] = s[x] + b;
    }
}

void
perc_microkernel_tile (const PercMicrokernel *k,
                       int                    depth,
                       const float           *image,
                       const float           *weights,
                       float                 *c,
                       gsize                  ldc,
                       int                    skip,
                       int                    rows,
                       int                    cols,
                       const float           *bias,
                       gboolean               relu)
{
  float      one = 1.0f, zero = 0.0f;
  float      part[MAX_TILE];
  gboolean   whole = skip == 0 && rows == k->outputs && cols == k->pixels;
  float     *to = whole ? c : part;
  gsize      ld = whole ? ldc : (gsize) k->pixels;
  auxinfo_t  aux;

  /* BLIS does not write A or B; it takes them non-const. */
  memset (&aux, 0, sizeof aux);
  bli_auxinfo_set_next_ab ((float *) image, (float *) weights, &aux);
  if (k->pixels_first)
    k->run (k->pixels, k->outputs, depth, &one, (float *) image, (float *) weights,
            &zero, to, 1, ld, &aux, k->cntx);
  else
    k->run (k->outputs, k->pixels, depth, &one, (float *) weights, (float *) image,
            &zero, to, ld, 1, &aux, k->cntx);
  /* A tile past the edges, or part of one, goes through `part`: only
   * what is asked for is copied out.
   */
  if (!whole)
    finish_copy (c, ldc, part + (gsize) skip * k->pixels, k->pixels, rows, cols, bias,
                 bias && relu);
  else if (bias)
    finish_in_place (c, ldc, rows, cols, bias, relu);
}
