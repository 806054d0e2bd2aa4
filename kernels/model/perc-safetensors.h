/* A defensive reader of safetensors files: an 8-byte little-endian header
 * length, a JSON header, then the raw little-endian tensor data.
 */
#ifndef PERC_SAFETENSORS_H
#define PERC_SAFETENSORS_H

#include <glib.h>

G_BEGIN_DECLS

#define PERC_MAX_RANK 8

/* What a model file may hold: far more than any real model needs (the
 * largest, VGG-16 or ResNet-50 with a calibration, is 100 to 250 MB with
 * a few hundred tensors and a dozen metadata keys), and little enough
 * that no file can exhaust memory, the stack or the time of a host before
 * it is refused.  perc-safetensors.c explains the header's limits.
 */
#define PERC_SAFETENSORS_MAX_FILE     ((gint64) 1 << 30)  /* bytes */
#define PERC_SAFETENSORS_MAX_HEADER   (4 << 20)           /* bytes of JSON */
#define PERC_SAFETENSORS_MAX_TENSORS  4096
#define PERC_SAFETENSORS_MAX_MEMBERS  64     /* of __metadata__, of a tensor */
#define PERC_SAFETENSORS_MAX_KEY      256    /* bytes of a name or key */
#define PERC_SAFETENSORS_MAX_STRING   4096   /* bytes of a string value */

typedef enum
{
  PERC_DTYPE_F32,
  PERC_DTYPE_F16,
  PERC_DTYPE_F64,
  PERC_DTYPE_I64,
  PERC_DTYPE_I32,
  PERC_DTYPE_U8
} PercDtype;

typedef struct
{
  const char    *name;
  PercDtype      dtype;
  int            rank;
  gint64         shape[PERC_MAX_RANK];
  gint64         n_elements;
  const guint8  *data;      /* inside the file's buffer, maybe unaligned */
  gsize          n_bytes;
} PercTensorView;

typedef struct _PercSafetensors PercSafetensors;

/* Reads and validates the whole file, which must be a regular file of
 * at most PERC_SAFETENSORS_MAX_FILE bytes.  Every problem is a GError
 * whose message names the file.
 */
PercSafetensors      *perc_safetensors_load      (const char      *path,
                                                  GError         **error);
/* Same, for a buffer already in memory; `name` is used in messages. */
PercSafetensors      *perc_safetensors_parse     (const char      *name,
                                                  GBytes          *contents,
                                                  GError         **error);
void                  perc_safetensors_free      (PercSafetensors *st);

const char           *perc_safetensors_get_path  (const PercSafetensors *st);
guint                 perc_safetensors_n_tensors (const PercSafetensors *st);
const PercTensorView *perc_safetensors_tensor    (const PercSafetensors *st,
                                                  guint            index);
const PercTensorView *perc_safetensors_lookup    (const PercSafetensors *st,
                                                  const char      *name);
/* NULL when the key is absent. */
const char           *perc_safetensors_metadata  (const PercSafetensors *st,
                                                  const char      *key);

const char           *perc_dtype_name            (PercDtype        dtype);

G_END_DECLS

#endif
