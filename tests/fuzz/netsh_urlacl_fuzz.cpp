// ParseUrlAcl: `netsh http show urlacl` text (collectors/httpsys/netsh_parse.h). Every
// reservation's URL parses, and its principals are exactly what DecodeSddl makes of its
// SDDL (the accounts from the text aside): the two readings of a reservation agree.
#include "collectors/httpsys/netsh_parse.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden::httpsys;
  const std::string_view text = portwarden::fuzz::AsText(data, size);
  auto parsed = ParseUrlAcl(text);
  if (!parsed) return 0;
  PORTWARDEN_FUZZ_CHECK(parsed->skipped + parsed->reservations.size() <=
                        static_cast<size_t>(portwarden::fuzz::LineCount(text)));
  for (const UrlReservation& r : parsed->reservations) {
    PORTWARDEN_FUZZ_CHECK(ParseHttpSysUrl(r.url).ok());
    auto decoded = DecodeSddl(r.sddl);
    PORTWARDEN_FUZZ_CHECK(decoded && decoded->size() == r.principals.size());
    for (size_t i = 0; i < r.principals.size(); ++i) {
      UrlAclPrincipal p = r.principals[i];
      p.account = (*decoded)[i].account;
      PORTWARDEN_FUZZ_CHECK(p == (*decoded)[i]);
    }
  }
  return 0;
}
