// DecodeProcEvents: a datagram from the proc connector's multicast group.
#include "collectors/listeners/proc_events.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portwarden::DecodeProcEvents(std::span<const uint8_t>(data, size));
  return 0;
}
