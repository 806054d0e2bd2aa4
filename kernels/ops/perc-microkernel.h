/* BLIS's micro-kernel for floats, called directly on panels packed by the
 * callers: the weights once, when a model loads, the image's side while
 * the convolution lowers it, so that no product packs anything.
 */
#ifndef PERC_MICROKERNEL_H
#define PERC_MICROKERNEL_H

#include <glib.h>
#include <blis.h>

G_BEGIN_DECLS

/* Larger than any tile side BLIS has (skx: 32 x 12). */
#define PERC_MICROKERNEL_MAX_SIDE 64

/* The kernel computes a tile of `pixels` x `outputs` results of a product
 * from a panel of each operand: `depth` steps of `pixels` (or `outputs`)
 * consecutive floats.  A model's weights are packed for one kernel, which
 * it keeps (perc-model.h).
 */
/* BLIS 1.x (which defines BLIS_VERSION_STRING; 0.9 does not) types the
 * kernel with void pointers and a const context.
 */
#ifdef BLIS_VERSION_STRING
typedef const cntx_t *PercBlisContext;
typedef gemm_ukr_ft   PercBlisKernel;
#else
typedef cntx_t       *PercBlisContext;
typedef sgemm_ukr_ft  PercBlisKernel;
#endif

typedef struct
{
  PercBlisContext cntx;
  PercBlisKernel  run;
  int           pixels;          /* per panel of the image's side */
  int           outputs;         /* output channels per panel of weights */
  gboolean      pixels_first;    /* the kernel writes columns of its tile best */
} PercMicrokernel;

/* The float kernel of BLIS's context in this process: the kernels BLIS
 * picked when it started (from BLIS_ARCH_TYPE, which a front end may set
 * before that, or its own detection); fixed from then on.
 */
void         perc_microkernel_query        (PercMicrokernel       *k);

/* E.g. "BLIS 0.9.0, skx kernels (32 x 12 tiles)"; free with g_free (). */
char        *perc_microkernel_describe     (const PercMicrokernel *k);

/* Floats of one panel of `width` by `depth`, rounded up so that panels
 * start on 64-byte boundaries.
 */
gsize        perc_microkernel_panel_floats (int                    width,
                                            int                    depth);

/* p rounded up to the next 64-byte boundary. */
float       *perc_microkernel_align        (float                 *p);

/* Alignment of panels, in floats. */
#define PERC_MICROKERNEL_ALIGN 16

/* Floats of weights [rows][depth] as packed panels (a multiple of the
 * alignment).
 */
gsize        perc_microkernel_packed_floats (const PercMicrokernel *k,
                                             int                    rows,
                                             int                    depth);

/* Floats to allocate for weights [rows][depth] as packed panels, with room
 * for the alignment.
 */
gsize        perc_microkernel_weights_size (const PercMicrokernel *k,
                                            int                    rows,
                                            int                    depth);

/* Packs weights [rows][depth] (a row per output channel) into dst, in
 * panels of k->outputs rows, zeros past the last row; returns the first
 * panel (dst aligned).
 */
float       *perc_microkernel_pack_weights (const PercMicrokernel *k,
                                            const float           *weights,
                                            int                    rows,
                                            int                    depth,
                                            float                 *dst);

/* c[o * ldc + x] = sum over d of weights[skip + o][d] image[d][x], for
 * the k->outputs channels of a weights panel and the k->pixels of an
 * image panel; skip, rows = which of those channels and cols = how many
 * of those pixels to write (the rest of the tile is left alone).  With a
 * bias (bias[o] for the written row o), bias[o] is added and, if relu,
 * negative results become 0, while the tile is in the cache.
 */
void         perc_microkernel_tile         (const PercMicrokernel *k,
                                            int                    depth,
                                            const float           *image,
                                            const float           *weights,
                                            float                 *c,
                                            gsize                  ldc,
                                            int                    skip,
                                            int                    rows,
                                            int                    cols,
                                            const float           *bias,
                                            gboolean               relu);

G_END_DECLS

#endif
