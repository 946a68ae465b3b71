#include "exporter/notifier/http_url.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace portwarden::notifier {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Error Bad(std::string_view url, std::string_view why) {
  return Error{"invalid URL \"" + std::string(url) + "\": " + std::string(why)};
}

}  // namespace

std::string HttpUrl::HostHeader() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Expected<HttpUrl> ParseHttpUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return Bad(url, "expected http://host[:port][/path]");
  const std::string scheme = Lower(url.substr(0, scheme_end));
  if (scheme == "https") {
    return Bad(url,
               "https is not supported (the HTTP client cannot verify certificates); use "
               "http on a trusted network or a local TLS-terminating proxy");
  }
  if (scheme != "http") return Bad(url, "expected an http:// URL");
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos) return Bad(url, "a fragment (#) is not allowed");
  const size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  HttpUrl out;
  if (path_start != std::string_view::npos) {
    out.path = std::string(rest.substr(path_start));
    if (out.path.front() == '?') out.path.insert(out.path.begin(), '/');
  }
  if (authority.find('@') != std::string_view::npos) {
    return Bad(url, "credentials in the URL are not supported");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad(url, "unterminated [IPv6] address");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad(url, "expected :port after the [IPv6] address");
      port_text = after.substr(1);
      if (port_text.empty()) return Bad(url, "empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Bad(url, "empty port");
    }
  }
  if (out.host.empty()) return Bad(url, "missing host");
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || value < 1 ||
        value > 65535) {
      return Bad(url, "invalid port \"" + std::string(port_text) + "\" (expected 1-65535)");
    }
    out.port = static_cast<uint16_t>(value);
  }
  return out;
}

Expected<HttpUrl> AlertmanagerAlertsUrl(std::string_view base_url) {
  auto url = ParseHttpUrl(base_url);
  if (!url) return url;
  if (url->path.find('?') != std::string::npos) {
    return Bad(base_url, "an Alertmanager base URL takes no query");
  }
  while (!url->path.empty() && url->path.back() == '/') url->path.pop_back();
  url->path += "/api/v2/alerts";
  return url;
}

}  // namespace portwarden::notifier
