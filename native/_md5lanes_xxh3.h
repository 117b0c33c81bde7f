/* xxh3-64 for native._md5lanes_c: libxxhash with its run-time SSE2/AVX2/AVX-512 dispatch on
 * x86-64 where the library has it (>= 0.8.0), as native/_checksum_md5xxh3.h does: the plain entry
 * points run the SSE2 build, a third of the speed on this CPU. */
#ifndef STRATO_MD5LANES_XXH3_H
#define STRATO_MD5LANES_XXH3_H
#include <xxhash.h>
#if (defined(__x86_64__) || defined(__i386__)) && defined(__has_include)
#if __has_include(<xxh_x86dispatch.h>)
#include <xxh_x86dispatch.h>
#endif
#endif
#endif
