// The /proc/PID parsers: stat, status, cgroup, fd links. Every parser gets the
// same text: each must reject what is not its format without reading past it.
#include "collectors/listeners/procfs.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  const std::string_view text = fuzz::AsText(data, size);
  if (auto stat = ParseProcStat(text)) PORTWARDEN_FUZZ_CHECK(stat->comm.size() < size);
  ParseStatusUid(text);
  const std::string unit = ParseSystemdUnit(text);
  PORTWARDEN_FUZZ_CHECK(unit.empty() || unit.ends_with(".service"));
  ParseSocketLink(text);
  return 0;
}
