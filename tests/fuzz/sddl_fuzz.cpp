// DecodeSddl: the security descriptor of a URL reservation.
#include "collectors/httpsys/httpsys.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto principals = portwarden::httpsys::DecodeSddl(portwarden::fuzz::AsText(data, size));
  if (principals) {
    for (const auto& p : *principals) PORTWARDEN_FUZZ_CHECK(!p.trustee.empty());
  }
  return 0;
}
