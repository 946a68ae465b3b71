// ParseHttpSysUrl, then UrlCoversEndpoint on the parsed URL against a few listener addresses.
#include "collectors/httpsys/httpsys.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden::httpsys;
  auto url = ParseHttpSysUrl(portwarden::fuzz::AsText(data, size));
  if (!url) return 0;
  PORTWARDEN_FUZZ_CHECK(url->port != 0);
  PORTWARDEN_FUZZ_CHECK(url->path.starts_with("/") && url->path.ends_with("/"));
  for (const char* address : {"0.0.0.0", "::", "127.0.0.1", "[::1]", "10.0.0.5", "bogus"}) {
    UrlCoversEndpoint(*url, address, url->port);
  }
  return 0;
}
