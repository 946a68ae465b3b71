// ParseServiceState: `netsh http show servicestate` text (collectors/httpsys/netsh_parse.h).
// Every URL kept parses, URL group IDs are 16 hex digits, queue versions are "n.n" (or
// absent), and a named queue whose URLs came from the groups has exactly the URLs of the
// groups that name it.
#include <set>

#include "collectors/httpsys/netsh_parse.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden::httpsys;
  const std::string_view text = portwarden::fuzz::AsText(data, size);
  auto parsed = ParseServiceState(text);
  if (!parsed) return 0;
  PORTWARDEN_FUZZ_CHECK(parsed->skipped <= portwarden::fuzz::LineCount(text));
  for (const UrlGroup& g : parsed->url_groups) {
    PORTWARDEN_FUZZ_CHECK(portwarden::fuzz::IsHexDigits(g.id, 16, /*lower=*/false));
    for (const std::string& url : g.urls) PORTWARDEN_FUZZ_CHECK(ParseHttpSysUrl(url).ok());
  }
  for (const RequestQueue& q : parsed->queues) {
    if (const std::string& v = q.version; !v.empty()) {
      const size_t dot = v.find('.');
      PORTWARDEN_FUZZ_CHECK(dot != std::string::npos && dot > 0 && dot + 1 < v.size());
      PORTWARDEN_FUZZ_CHECK(v.find_first_not_of("0123456789.") == std::string::npos &&
                            v.find('.', dot + 1) == std::string::npos);
    }
    for (const std::string& url : q.urls) PORTWARDEN_FUZZ_CHECK(ParseHttpSysUrl(url).ok());
    if (q.urls_from_groups && !q.name.empty()) {
      std::set<std::string> from_groups;
      for (const UrlGroup& g : parsed->url_groups) {
        if (g.request_queue == q.name) from_groups.insert(g.urls.begin(), g.urls.end());
      }
      PORTWARDEN_FUZZ_CHECK(std::set<std::string>(q.urls.begin(), q.urls.end()) == from_groups);
    }
  }
  return 0;
}
