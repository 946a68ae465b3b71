#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "collectors/common/expected.h"
#include "exporter/notifier/http_url.h"

namespace portwarden::notifier {

/// A receiver's answer.
struct HttpResult {
  int status = 0;
  std::string body;  ///< at most the first 1 KiB, for error messages
};

/// POSTs a JSON body over CivetWeb's client (plain HTTP/1.1, one connection per request).
/// Waits `timeout` for the response; connecting gives up after CivetWeb's own 10 s. An error
/// means no HTTP answer at all (refused, timed out, reset); any status is a result.
/// Thread-safe.
Expected<HttpResult> HttpPostJson(const HttpUrl& url, std::string_view body,
                                  std::chrono::milliseconds timeout);

}  // namespace portwarden::notifier
