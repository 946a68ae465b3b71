// ParseExcludedPortRanges: `netsh` output text (collectors/httpsys/netsh_parse.h).
#include "collectors/httpsys/netsh_parse.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = portwarden::httpsys::ParseExcludedPortRanges(portwarden::fuzz::AsText(data, size));
  if (parsed) PORTWARDEN_FUZZ_CHECK(parsed->skipped >= 0);
  return 0;
}
