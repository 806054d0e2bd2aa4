/* A coverage-guided fuzz target for the model loader: the bytes are a
 * model file, fed through what every host calls (the `gegl-perceptual`
 * command line, the ops, GIMP): perc_safetensors_parse (), then
 * perc_model_new ().  Built with clang's libFuzzer under AddressSanitizer
 * and UBSan (tests/kernels/model/fuzz/meson.build, `tests/run-all --fuzz
 * SECONDS`), and with a main () that replays a corpus (fuzz-replay.c) in
 * the test suite.
 *
 * Besides crashes it checks what the loader promises: an answer is a
 * model or an error, never both or neither; every tensor view lies in the
 * file's bytes; a model's weights, as the kernels read them, are finite;
 * no GLib warning or critical (made fatal here), which is how json-glib
 * and the header's own consistency check report trouble.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ops/perc-microkernel.h"
#include "support/test-core.h"
#include "model/perc-model.h"

int LLVMFuzzerInitialize   (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int    *argc,
                      G_GNUC_UNUSED char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
                          G_LOG_LEVEL_WARNING);
  return 0;
}

static void
check (gboolean    ok,
       const char *what)
{
  if (!ok)
    {
      g_printerr ("fuzz-model: %s\n", what);
      abort ();
    }
}

/* The floats a model's convolutions and calibration read: the transformed
 * or packed weights, the biases and the lin weights.
 */
static void
check_model (const PercModel *model)
{
  const PercNet         *net = model->net;
  const PercMicrokernel *k = &model->microkernel;

  check (model->net != NULL && model->storage != NULL, "a model without a network");
  for (int i = 0; i < net->n_ops; i++)
    if (net->ops[i].kind == PERC_OP_CONV)
      {
        const PercConv *conv = &model->convs[i];

        const float    *w = conv->packed_weight;
        gsize           n = perc_microkernel_packed_floats (k, conv->out_channels,
                                                            conv->in_channels * conv->kernel *
                                                            conv->kernel);

        check (conv->bias != NULL && w != NULL, "a convolution without weights");
        for (gsize j = 0; j < n; j++)
          check (isfinite (w[j]), "a non-finite weight");
        /* Layers that can take Winograd's blocks have their weights too. */
        if (conv->winograd_m > 0)
          {
            gsize alpha = conv->winograd_m + conv->kernel - 1;

            w = conv->winograd_weight;
            n = alpha * alpha * perc_microkernel_packed_floats (k, conv->out_channels,
                                                                conv->in_channels);
            check (w != NULL, "a convolution without its Winograd weights");
            for (gsize j = 0; j < n; j++)
              check (isfinite (w[j]), "a non-finite weight");
          }
        for (int o = 0; o < conv->out_channels; o++)
          check (isfinite (conv->bias[o]), "a non-finite bias");
      }
  for (int t = 0; t < net->n_taps; t++)
    if (model->lin[t])
      for (int c = 0; c < net->channels[net->taps[t]]; c++)
        check (isfinite (model->lin[t][c]), "a non-finite lin weight");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* An exact-size copy, so that AddressSanitizer sees any read past it. */
  GBytes          *bytes = g_bytes_new (data, size);
  const guint8    *base = g_bytes_get_data (bytes, NULL);
  GError          *error = NULL;
  PercSafetensors *st = perc_safetensors_parse ("fuzz-input", bytes, &error);

  check ((st != NULL) != (error != NULL), "parse: both or neither of a result and an error");
  if (st)
    {
      PercModel *model;

      for (guint i = 0; i < perc_safetensors_n_tensors (st); i++)
        {
          const PercTensorView *t = perc_safetensors_tensor (st, i);

          check (t->data >= base && t->n_bytes <= size &&
                 (gsize) (t->data - base) <= size - t->n_bytes,
                 "a tensor view outside the file");
          check (perc_safetensors_lookup (st, t->name) == t, "a tensor not found by name");
        }
      model = perc_model_new (st, test_microkernel (), &error);
      check ((model != NULL) != (error != NULL),
             "model: both or neither of a result and an error");
      if (model)
        check_model (model);
      perc_model_free (model);
      perc_safetensors_free (st);
    }
  else
    check (g_str_has_prefix (error->message, "fuzz-input: "),
           "an error that does not name the file");
  g_clear_error (&error);
  g_bytes_unref (bytes);
  return 0;
}
