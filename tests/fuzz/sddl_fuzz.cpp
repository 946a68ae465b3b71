// DecodeSddl: the security descriptor of a URL reservation. One principal per ACE of the
// input, each trustee a SID string (its own SID) or a two-letter alias (resolved to a SID or
// left empty), and the principals written back as a plain DACL decode to themselves.
#include <algorithm>
#include <string>

#include "collectors/httpsys/httpsys.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using portwarden::httpsys::UrlAclPrincipal;
  const std::string_view text = portwarden::fuzz::AsText(data, size);
  auto principals = portwarden::httpsys::DecodeSddl(text);
  if (!principals) return 0;
  PORTWARDEN_FUZZ_CHECK(principals->size() <=
                        static_cast<size_t>(std::count(text.begin(), text.end(), '(')));
  std::string printed = "D:";
  for (const UrlAclPrincipal& p : *principals) {
    PORTWARDEN_FUZZ_CHECK(p.account.empty());
    PORTWARDEN_FUZZ_CHECK(text.find(";" + p.trustee + ")") != std::string_view::npos);
    if (p.trustee.starts_with("S-1-")) {
      PORTWARDEN_FUZZ_CHECK(p.sid == p.trustee);
    } else {
      PORTWARDEN_FUZZ_CHECK(p.trustee.size() == 2 &&
                            p.trustee.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
                                std::string::npos);
      PORTWARDEN_FUZZ_CHECK(p.sid.empty() || p.sid.starts_with("S-1-"));
    }
    const char* rights = p.listen && p.delegate ? "GA" : p.listen ? "GX" : p.delegate ? "GW" : "GR";
    printed += "(A;;" + std::string(rights) + ";;;" + p.trustee + ")";
  }
  auto again = portwarden::httpsys::DecodeSddl(printed);
  PORTWARDEN_FUZZ_CHECK(again && *again == *principals);
  return 0;
}
