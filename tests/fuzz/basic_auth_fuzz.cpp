// ParseBasicAuthorization: the Authorization header, straight from any client. Checked
// against a slow reference (base64 as a stream of bits, RFC 4648 section 4), with the
// credentials encoded again parsing to themselves; ConstantTimeEquals against ==.
#include <algorithm>
#include <optional>
#include <string>

#include "collectors/common/text.h"
#include "exporter/web_config.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::optional<std::string> ReferenceBase64(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && padding < in.size() && in[in.size() - 1 - padding] == '=') ++padding;
  std::string bits;
  for (char c : in.substr(0, in.size() - padding)) {
    const size_t v = kAlphabet.find(c);  // a '=' anywhere else is not in the alphabet
    if (v == std::string_view::npos) return std::nullopt;
    for (int b = 5; b >= 0; --b) bits += (v >> b & 1) ? '1' : '0';
  }
  std::string out;
  for (size_t i = 0; i + 8 <= bits.size(); i += 8) {
    out += static_cast<char>(std::stoi(bits.substr(i, 8), nullptr, 2));
  }
  return out;
}

std::string EncodeBase64(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t group = 0;
    const size_t n = std::min<size_t>(3, in.size() - i);
    for (size_t j = 0; j < 3; ++j) {
      group = group << 8 | (j < n ? static_cast<uint8_t>(in[i + j]) : 0);
    }
    for (size_t j = 0; j < 4; ++j) {
      out += j <= n ? kAlphabet[group >> (18 - 6 * j) & 63] : '=';
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using portwarden::ParseBasicAuthorization;
  const std::string_view header = portwarden::fuzz::AsText(data, size);
  const auto credentials = ParseBasicAuthorization(header);

  std::optional<std::string> expected;
  if (header.size() >= 6 && portwarden::EqualsIgnoreCase(header.substr(0, 6), "Basic ")) {
    expected = ReferenceBase64(header.substr(6));
  }
  if (expected && expected->find(':') == std::string::npos) expected.reset();
  PORTWARDEN_FUZZ_CHECK(credentials.has_value() == expected.has_value());
  if (!credentials) return 0;
  PORTWARDEN_FUZZ_CHECK(credentials->user + ":" + credentials->password == *expected);
  PORTWARDEN_FUZZ_CHECK(credentials->user.find(':') == std::string::npos);

  const auto again =
      ParseBasicAuthorization("Basic " + EncodeBase64(credentials->user + ":" + credentials->password));
  PORTWARDEN_FUZZ_CHECK(again && again->user == credentials->user &&
                        again->password == credentials->password);
  PORTWARDEN_FUZZ_CHECK(portwarden::ConstantTimeEquals(credentials->user, credentials->password) ==
                        (credentials->user == credentials->password));
  return 0;
}
