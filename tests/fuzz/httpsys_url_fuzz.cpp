// ParseHttpSysUrl, then UrlCoversEndpoint on the parsed URL against a few listener addresses.
#include <string>

#include "collectors/httpsys/httpsys.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden::httpsys;
  auto url = ParseHttpSysUrl(portwarden::fuzz::AsText(data, size));
  if (!url) return 0;
  PORTWARDEN_FUZZ_CHECK(url->port != 0);
  PORTWARDEN_FUZZ_CHECK(url->path.starts_with("/") && url->path.ends_with("/"));
  PORTWARDEN_FUZZ_CHECK(url->scheme == "http" || url->scheme == "https");
  // Printed back from its parts, the URL parses to the same parts.
  std::string printed = url->scheme + "://" + url->host + ":" + std::to_string(url->port);
  if (!url->ip.empty()) {
    printed += ":" + (url->ip.find(':') != std::string::npos ? "[" + url->ip + "]" : url->ip);
  }
  auto again = ParseHttpSysUrl(printed + url->path);
  PORTWARDEN_FUZZ_CHECK(again && again->scheme == url->scheme && again->host == url->host &&
                        again->host_kind == url->host_kind && again->port == url->port &&
                        again->ip == url->ip && again->path == url->path);
  // A registration covers listeners on its own port only, and never an unparsable address;
  // one not bound to an IP covers every address.
  const bool ip_bound = !url->ip.empty() || url->host_kind == UrlHostKind::kIpv4 ||
                        url->host_kind == UrlHostKind::kIpv6;
  for (const char* address : {"0.0.0.0", "::", "127.0.0.1", "[::1]", "10.0.0.5"}) {
    PORTWARDEN_FUZZ_CHECK(!UrlCoversEndpoint(*url, address, url->port ^ 1));
    if (!ip_bound) PORTWARDEN_FUZZ_CHECK(UrlCoversEndpoint(*url, address, url->port));
  }
  PORTWARDEN_FUZZ_CHECK(!UrlCoversEndpoint(*url, "bogus", url->port));
  return 0;
}
