#pragma once

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace portwarden {

/// Sets glibc's allocator up for a long-running daemon with many mostly idle threads; call
/// first thing in main, before any thread starts. Measured at the large benchmark scale
/// (6,250 listeners, BENCHMARKS.md), RSS after a scrape burst: 33 MiB with the defaults,
/// 27 MiB with both settings:
///  - one arena: by default every thread that allocates may get an arena of its own (up to
///    8 per core), each keeping its freed pages; the sampler and a few scrapes at a time
///    do not contend, and per-thread caches serve small blocks without the lock.
///  - a fixed mmap threshold of 32 KiB: blocks from there up (socket tables, listener
///    vectors, the /metrics text) are mapped and go back to the OS when freed. The default
///    threshold rises to the size of every large block freed (up to 32 MiB), after which
///    such blocks are carved out of the heap and strand the pages around them.
/// A no-op where the C library is not glibc.
inline void ConfigureHeap() {
#ifdef __GLIBC__
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 32 * 1024);
#endif
}

/// Gives the free pages of every malloc arena back to the OS. glibc keeps freed memory in
/// the arena of the thread that freed it and returns it only from the top of each heap; a
/// multi-megabyte structure freed in the middle (an old listener set, a render's scratch)
/// would otherwise stay resident. Costs a walk of the free lists: call it after large
/// frees, not per request. A no-op where the C library has no malloc_trim.
inline void ReleaseFreeHeap() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace portwarden
