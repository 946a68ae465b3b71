// ParseNetstat: `netstat -ano` output text (collectors/httpsys/netstat_parse.h). TCP rows have
// a state and UDP rows none, no more lines are skipped than there are, and the rows printed
// back the way netstat prints them parse to the same rows with nothing skipped.
#include <string>

#include "collectors/httpsys/netstat_parse.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using portwarden::Family;
  using portwarden::Proto;
  using portwarden::httpsys::NetstatRow;
  const std::string_view text = portwarden::fuzz::AsText(data, size);
  auto parsed = portwarden::httpsys::ParseNetstat(text);
  if (!parsed) return 0;
  PORTWARDEN_FUZZ_CHECK(!parsed->rows.empty());
  PORTWARDEN_FUZZ_CHECK(parsed->skipped < portwarden::fuzz::LineCount(text));
  std::string printed =
      "\nActive Connections\n\n"
      "  Proto  Local Address          Foreign Address        State           PID\n";
  for (const NetstatRow& row : parsed->rows) {
    PORTWARDEN_FUZZ_CHECK(row.state.empty() == (row.proto == Proto::kUdp));
    const std::string local = row.family == Family::kIpv6 ? "[" + row.address + "]" : row.address;
    printed += std::string(row.proto == Proto::kTcp ? "  TCP    " : "  UDP    ") + local + ":" +
               std::to_string(row.port) + "    " + row.foreign + "    " + row.state +
               (row.state.empty() ? "" : "    ") + std::to_string(row.pid) + "\n";
  }
  // A NUL in the first 256 bytes reads as UTF-16 and is refused (netstat_parse.h): a state
  // holding one prints back only further down.
  if (printed.substr(0, 256).find('\0') != std::string::npos) return 0;
  auto again = portwarden::httpsys::ParseNetstat(printed);
  PORTWARDEN_FUZZ_CHECK(again && again->skipped == 0 && again->rows == parsed->rows);
  return 0;
}
