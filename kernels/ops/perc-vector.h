/* Loops over whole rows pay off with vectors as wide as the processor
 * has: GCC makes a copy of a function marked VECTOR_CLONES for each width
 * and picks one when the library loads.
 */
#ifndef PERC_VECTOR_H
#define PERC_VECTOR_H

#if defined (__x86_64__) && defined (__has_attribute)
#if __has_attribute (target_clones)
#define VECTOR_CLONES __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#endif
#endif
#ifndef VECTOR_CLONES
#define VECTOR_CLONES
#endif

#endif
