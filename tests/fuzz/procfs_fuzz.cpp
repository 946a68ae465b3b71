// The /proc/PID parsers: stat, status, cgroup, fd links. Every parser gets the
// same text: each must reject what is not its format without reading past it.
#include <charconv>
#include <optional>
#include <string>

#include "collectors/listeners/procfs.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  const std::string_view text = fuzz::AsText(data, size);
  if (auto stat = ParseProcStat(text)) PORTWARDEN_FUZZ_CHECK(stat->comm.size() < size);
  if (auto uid = ParseStatusUid(text)) {
    const size_t line = text.find("\nUid:");
    PORTWARDEN_FUZZ_CHECK(line != std::string_view::npos &&
                          text.find(std::to_string(*uid), line) != std::string_view::npos);
  }
  const std::string unit = ParseSystemdUnit(text);
  PORTWARDEN_FUZZ_CHECK(unit.empty() || (unit.ends_with(".service") &&
                                         text.find(unit) != std::string_view::npos));
  // An fd link is "socket:[N]" with N decimal: the same as from_chars reads it.
  std::optional<uint64_t> inode;
  if (text.starts_with("socket:[") && text.ends_with("]")) {
    const std::string_view digits = text.substr(8, text.size() - 9);
    uint64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error == std::errc() && end == digits.data() + digits.size()) inode = value;
  }
  PORTWARDEN_FUZZ_CHECK(ParseSocketLink(text) == inode);
  return 0;
}
