#pragma once

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace portwarden {

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
