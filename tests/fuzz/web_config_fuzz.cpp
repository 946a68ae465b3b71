// ParseWebConfig: the exporter-toolkit web config (TLS, basic auth users, headers). An error
// names the file and a line of the text. What parses is what the toolkit allows: only its
// five headers, once each, with values that cannot split a response and, for the two with a
// fixed set, one of those; users without ':' and bcrypt hashes ($2a$/$2b$/$2y$, cost 04-31,
// 53 characters of bcrypt's base64); TLS files absolute (resolved against /etc/pw), a client
// CA exactly when client certificates are verified.
#include <set>
#include <string>

#include "collectors/common/text.h"
#include "exporter/web_config.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool IsBcrypt(const std::string& h) {
  if (h.size() != 60 ||
      !(h.starts_with("$2a$") || h.starts_with("$2b$") || h.starts_with("$2y$"))) {
    return false;
  }
  const std::string cost = h.substr(4, 2);
  return cost >= "04" && cost <= "31" &&
         cost.find_first_not_of("0123456789") == std::string::npos && h[6] == '$' &&
         h.find_first_not_of("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                             7) == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  constexpr std::string_view kFile = "/etc/pw/web.yml";
  const std::string_view text = fuzz::AsText(data, size);
  auto config = fuzz::ParseYaml(ParseWebConfig, text, kFile);
  if (!config) return 0;
  std::set<std::string> names;
  for (const auto& [name, value] : config->headers) {
    PORTWARDEN_FUZZ_CHECK(names.insert(name).second);
    PORTWARDEN_FUZZ_CHECK(name == "Strict-Transport-Security" || name == "X-Content-Type-Options" ||
                          name == "X-Frame-Options" || name == "X-XSS-Protection" ||
                          name == "Content-Security-Policy");
    for (unsigned char c : value) PORTWARDEN_FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    if (name == "X-Content-Type-Options") PORTWARDEN_FUZZ_CHECK(EqualsIgnoreCase(value, "nosniff"));
    if (name == "X-Frame-Options") {
      PORTWARDEN_FUZZ_CHECK(EqualsIgnoreCase(value, "deny") ||
                            EqualsIgnoreCase(value, "sameorigin"));
    }
  }
  for (const auto& [user, hash] : config->basic_auth_users) {
    PORTWARDEN_FUZZ_CHECK(!user.empty() && user.find(':') == std::string::npos && IsBcrypt(hash));
  }
  if (const auto& tls = config->tls) {
    PORTWARDEN_FUZZ_CHECK(tls->cert_file.starts_with("/") && tls->key_file.starts_with("/"));
    PORTWARDEN_FUZZ_CHECK(tls->client_ca_file.empty() ==
                          (tls->client_auth == ClientAuth::kNoClientCert));
    PORTWARDEN_FUZZ_CHECK(tls->client_ca_file.empty() || tls->client_ca_file.starts_with("/"));
  }
  return 0;
}
