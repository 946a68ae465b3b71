// ParseWebConfig: the exporter-toolkit web config (TLS, basic auth users, headers).
#include "exporter/web_config.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = portwarden::ParseWebConfig(portwarden::fuzz::AsText(data, size), "/etc/pw/web.yml");
  if (!config) {
    PORTWARDEN_FUZZ_CHECK(config.error().message.starts_with("/etc/pw/web.yml"));
    return 0;
  }
  // What reaches the HTTP responses can never split a header.
  for (const auto& [name, value] : config->headers) {
    PORTWARDEN_FUZZ_CHECK(value.find_first_of("\r\n") == std::string::npos);
  }
  for (const auto& [user, hash] : config->basic_auth_users) {
    PORTWARDEN_FUZZ_CHECK(hash.size() == 60 && user.find(':') == std::string::npos);
  }
  if (config->tls) {
    PORTWARDEN_FUZZ_CHECK(!config->tls->cert_file.empty() && !config->tls->key_file.empty());
  }
  return 0;
}
