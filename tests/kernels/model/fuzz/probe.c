/* Whether clang links a libFuzzer target here (tests/kernels/model/fuzz/meson.build). */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return size > 0 && data[0] == 0;
}
