#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "collectors/common/expected.h"

namespace portwarden::notifier {

/// An http:// URL split into what a request needs.
struct HttpUrl {
  std::string host;  ///< name or address; an IPv6 address without its brackets
  uint16_t port = 80;
  std::string path = "/";  ///< starts with '/', query included

  /// The Host header value: "am:9093", "[::1]:9093".
  std::string HostHeader() const;
};

/// Parses "http://host[:port][/path]". Only plain http: CivetWeb's client does not verify
/// server certificates, and credentials in the URL would end up in labels and logs, so
/// https:// and user@ are errors that say so.
Expected<HttpUrl> ParseHttpUrl(std::string_view url);

/// An Alertmanager base URL plus its v2 alerts endpoint: "http://am:9093/prefix" ->
/// path "/prefix/api/v2/alerts".
Expected<HttpUrl> AlertmanagerAlertsUrl(std::string_view base_url);

}  // namespace portwarden::notifier
