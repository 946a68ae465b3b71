// ParseBasicAuthorization: the Authorization header, straight from any client.
#include "exporter/web_config.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view header = portwarden::fuzz::AsText(data, size);
  auto credentials = portwarden::ParseBasicAuthorization(header);
  if (credentials) {
    // Base64 turns 4 characters into at most 3 bytes; the colon is not in either part.
    PORTWARDEN_FUZZ_CHECK(credentials->user.size() + credentials->password.size() + 1 <=
                          (size - 6) / 4 * 3);
    PORTWARDEN_FUZZ_CHECK(credentials->user.find(':') == std::string::npos);
  }
  PORTWARDEN_FUZZ_CHECK(portwarden::ConstantTimeEquals(header, header));
  return 0;
}
