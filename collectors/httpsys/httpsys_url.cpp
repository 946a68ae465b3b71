#include "collectors/httpsys/httpsys.h"

#include <optional>
#include <string>

#include "collectors/common/ip_address.h"
#include "collectors/common/text.h"
#include "collectors/httpsys/netsh_text.h"

namespace portwarden::httpsys {
namespace {

using internal::IsHostName;
using internal::ToLowerAscii;

Error UrlError(std::string_view url, std::string_view what) {
  return Error{"HTTP.sys URL \"" + std::string(url) + "\": " + std::string(what)};
}

// The address an IP-bound registration is limited to: the IP of the host:port:ip form, or an
// IP-literal host, which HTTP.sys turns into that form (netsh shows "http://127.0.0.1:8000/"
// registered as HTTP://127.0.0.1:8000:127.0.0.1/).
std::optional<IpAddress> BoundAddress(const HttpSysUrl& url) {
  if (!url.ip.empty()) return ParseIpAddress(url.ip);
  if (url.host_kind == UrlHostKind::kIpv4 || url.host_kind == UrlHostKind::kIpv6) {
    return ParseIpAddress(url.host);
  }
  return std::nullopt;
}

}  // namespace

Expected<HttpSysUrl> ParseHttpSysUrl(std::string_view url) {
  url = internal::Trim(url);
  HttpSysUrl out;

  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return UrlError(url, "expected scheme://");
  out.scheme = ToLowerAscii(url.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https") {
    return UrlError(url, "unsupported scheme, expected http or https");
  }
  std::string_view rest = url.substr(scheme_end + 3);

  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return UrlError(url, "missing path, expected '/'");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash);
  if (path.back() != '/') {
    return UrlError(url, "path does not end with '/' (HTTP.sys requires it; cut off?)");
  }
  out.path = std::string(path);

  std::string_view host;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return UrlError(url, "unterminated '[' in host");
    host = authority.substr(0, close + 1);
    authority.remove_prefix(close + 1);
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    authority.remove_prefix(colon == std::string_view::npos ? authority.size() : colon);
  }
  if (host.empty()) return UrlError(url, "empty host");
  if (!authority.starts_with(":")) return UrlError(url, "missing port after the host");
  authority.remove_prefix(1);

  size_t port_end = authority.find(':');
  std::optional<uint16_t> port = ParsePort(authority.substr(0, port_end));
  if (!port) return UrlError(url, "port is not a number in 1-65535");
  out.port = *port;

  if (port_end != std::string_view::npos) {
    std::string_view ip = authority.substr(port_end + 1);
    if (!ParseIpAddress(ip)) return UrlError(url, "bad IP after the port, expected host:port:ip");
    if (ip.starts_with("[")) ip = ip.substr(1, ip.size() - 2);
    out.ip = ToLowerAscii(ip);
  }

  if (host == "+") {
    out.host_kind = UrlHostKind::kStrongWildcard;
  } else if (host == "*") {
    out.host_kind = UrlHostKind::kWeakWildcard;
  } else if (host.starts_with("[")) {
    std::optional<IpAddress> address = ParseIpAddress(host);
    if (!address || !address->v6) return UrlError(url, "bad IPv6 address in brackets");
    out.host_kind = UrlHostKind::kIpv6;
  } else if (ParseIpAddress(host)) {
    out.host_kind = UrlHostKind::kIpv4;
  } else if (IsHostName(host)) {
    out.host_kind = UrlHostKind::kHostname;
  } else {
    return UrlError(url, "bad host, expected +, *, a host name or an IP address");
  }
  out.host = ToLowerAscii(host);
  return out;
}

bool UrlCoversEndpoint(const HttpSysUrl& url, std::string_view address, uint16_t port) {
  if (port != url.port) return false;
  std::optional<IpAddress> listener = ParseIpAddress(address);
  if (!listener) return false;
  std::optional<IpAddress> bound = BoundAddress(url);
  if (!bound) return true;
  if (listener->v6 != bound->v6) return false;
  return listener->IsUnspecified() || *listener == *bound;
}

}  // namespace portwarden::httpsys
