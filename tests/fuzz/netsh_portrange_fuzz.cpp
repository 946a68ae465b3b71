// ParseExcludedPortRanges: `netsh int ip show excludedportrange` text
// (collectors/httpsys/netsh_parse.h). Every range is 1 <= start <= end, and the table
// printed back the way netsh prints it parses to the same ranges with nothing skipped.
#include <cstdio>

#include "collectors/httpsys/netsh_parse.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden::httpsys;
  const std::string_view text = portwarden::fuzz::AsText(data, size);
  auto parsed = ParseExcludedPortRanges(text);
  if (!parsed) return 0;
  PORTWARDEN_FUZZ_CHECK(parsed->skipped + parsed->ranges.size() <=
                        static_cast<size_t>(portwarden::fuzz::LineCount(text)));
  std::string printed =
      "\nProtocol tcp Port Exclusion Ranges\n\nStart Port    End Port\n"
      "----------    --------\n";
  for (const ExcludedPortRange& r : parsed->ranges) {
    PORTWARDEN_FUZZ_CHECK(r.start >= 1 && r.start <= r.end);
    char row[64];
    std::snprintf(row, sizeof row, "%10u  %10u%s\n", unsigned{r.start}, unsigned{r.end},
                  r.administered ? "     *" : "");
    printed += row;
  }
  printed += "\n* - Administered port exclusions.\n";
  auto again = ParseExcludedPortRanges(printed);
  PORTWARDEN_FUZZ_CHECK(again && again->skipped == 0 && again->ranges == parsed->ranges);
  return 0;
}
