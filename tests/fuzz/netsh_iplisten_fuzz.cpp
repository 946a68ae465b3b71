// ParseIpListen: `netsh http show iplisten` text (collectors/httpsys/netsh_parse.h). Every
// entry is an IP address line of the input, and the listing printed back the way netsh
// prints it parses to the same entries with nothing skipped.
#include "collectors/common/ip_address.h"
#include "collectors/httpsys/netsh_parse.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden::httpsys;
  const std::string_view text = portwarden::fuzz::AsText(data, size);
  auto parsed = ParseIpListen(text);
  if (!parsed) return 0;
  PORTWARDEN_FUZZ_CHECK(parsed->skipped + parsed->entries.size() <=
                        static_cast<size_t>(portwarden::fuzz::LineCount(text)));
  std::string printed = "IP addresses present in the IP listen list:\n"
                        "-------------------------------------------\n\n";
  for (const IpListenEntry& e : parsed->entries) {
    PORTWARDEN_FUZZ_CHECK(portwarden::ParseIpAddress(e.address).has_value());
    PORTWARDEN_FUZZ_CHECK(text.find(e.address) != std::string_view::npos);
    printed += "    " + e.address + "\n";
  }
  auto again = ParseIpListen(printed);
  PORTWARDEN_FUZZ_CHECK(again && again->skipped == 0);
  PORTWARDEN_FUZZ_CHECK(again->entries.size() == parsed->entries.size());
  for (size_t i = 0; i < again->entries.size(); ++i) {
    PORTWARDEN_FUZZ_CHECK(again->entries[i].address == parsed->entries[i].address);
  }
  return 0;
}
