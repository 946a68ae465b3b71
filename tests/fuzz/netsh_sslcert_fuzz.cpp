// ParseSslCert: `netsh http show sslcert` text (collectors/httpsys/netsh_parse.h). Every
// binding's typed fields agree with its endpoint as printed and have the documented shapes.
#include <charconv>
#include <string>

#include "collectors/common/ip_address.h"
#include "collectors/httpsys/netsh_parse.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden::httpsys;
  using portwarden::fuzz::IsHexDigits;
  const std::string_view text = portwarden::fuzz::AsText(data, size);
  auto parsed = ParseSslCert(text);
  if (!parsed) return 0;
  PORTWARDEN_FUZZ_CHECK(parsed->skipped + parsed->bindings.size() <=
                        static_cast<size_t>(portwarden::fuzz::LineCount(text)));
  for (const TlsBinding& b : parsed->bindings) {
    PORTWARDEN_FUZZ_CHECK(b.port != 0);
    PORTWARDEN_FUZZ_CHECK(text.find(b.endpoint) != std::string_view::npos);
    // The endpoint is [host:]port; the port as printed may carry leading zeros.
    const size_t colon = b.endpoint.rfind(':');
    const std::string_view port_text =
        std::string_view(b.endpoint).substr(colon == std::string::npos ? 0 : colon + 1);
    unsigned port = 0;
    auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    PORTWARDEN_FUZZ_CHECK(error == std::errc() && end == port_text.data() + port_text.size() &&
                          port == b.port);
    const std::string_view host = std::string_view(b.endpoint).substr(0, colon == std::string::npos ? 0 : colon);
    switch (b.kind) {
      case TlsBindingKind::kCcs:
        PORTWARDEN_FUZZ_CHECK(b.host.empty() && colon == std::string::npos);
        break;
      case TlsBindingKind::kIpPort:
        // The host as printed (brackets and all) is the same address as the parsed one:
        // netsh may print [A::], the parser keeps a::.
        PORTWARDEN_FUZZ_CHECK(portwarden::ParseIpAddress(b.host).has_value());
        PORTWARDEN_FUZZ_CHECK(portwarden::ParseIpAddress(host) ==
                              portwarden::ParseIpAddress(b.host));
        break;
      case TlsBindingKind::kHostnamePort:
        PORTWARDEN_FUZZ_CHECK(!b.host.empty() && !portwarden::ParseIpAddress(b.host).has_value());
        break;
    }
    // A hash is due except for CCS bindings, whose certificates come from the store.
    PORTWARDEN_FUZZ_CHECK(IsHexDigits(b.cert_hash, 40, /*lower=*/true) ||
                          (b.cert_hash.empty() && b.kind == TlsBindingKind::kCcs));
    PORTWARDEN_FUZZ_CHECK(portwarden::fuzz::IsBracedGuid(b.app_id));
  }
  return 0;
}
