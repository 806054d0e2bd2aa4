/* Element-wise loops worth vectors as wide as the processor has: GCC
 * makes a copy of a function so marked for each width and picks one when
 * the library loads.  Each result is computed the same way in every copy
 * (no sums reordered across elements, no fused multiply-adds), so the
 * results do not depend on the processor.
 */
#ifndef PERC_VECTOR_H
#define PERC_VECTOR_H

/* Not with clang: clang 14 leaves the copies of functions other files
 * call undefined.
 */
#if defined (__x86_64__) && defined (__has_attribute) && !defined (__clang__)
#if __has_attribute (target_clones)
#define PERC_VECTOR_CLONES __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#endif
#endif
#ifndef PERC_VECTOR_CLONES
#define PERC_VECTOR_CLONES
#endif

#endif
