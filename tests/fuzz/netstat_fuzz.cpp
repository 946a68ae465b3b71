// ParseNetstat: `netstat -ano` output text (collectors/httpsys/netstat_parse.h).
#include "collectors/httpsys/netstat_parse.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using portwarden::Proto;
  auto parsed = portwarden::httpsys::ParseNetstat(portwarden::fuzz::AsText(data, size));
  if (!parsed) return 0;
  PORTWARDEN_FUZZ_CHECK(parsed->skipped >= 0);
  PORTWARDEN_FUZZ_CHECK(!parsed->rows.empty());
  for (const auto& row : parsed->rows) {
    PORTWARDEN_FUZZ_CHECK(!row.address.empty() && !row.foreign.empty());
    // TCP rows have a state, UDP rows none.
    PORTWARDEN_FUZZ_CHECK(row.state.empty() == (row.proto == Proto::kUdp));
  }
  return 0;
}
