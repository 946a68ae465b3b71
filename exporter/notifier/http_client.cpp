#include "exporter/notifier/http_client.h"

#include <civetweb.h>

namespace portwarden::notifier {
namespace {

// CivetWeb's client needs the library initialised (on Windows: WSAStartup) and keeps a
// reference count; once per process is enough and is never undone.
void InitCivetWeb() {
  static const bool initialised = [] {
    mg_init_library(0);
    return true;
  }();
  (void)initialised;
}

}  // namespace

Expected<HttpResult> HttpPostJson(const HttpUrl& url, std::string_view body,
                                  std::chrono::milliseconds timeout) {
  InitCivetWeb();
  char error[256] = {};
  mg_connection* conn = mg_connect_client(url.host.c_str(), url.port, 0, error, sizeof error);
  if (conn == nullptr) {
    return Error{"cannot connect to " + url.HostHeader() + ": " +
                 (error[0] ? error : "unknown error")};
  }
  // Built here rather than with mg_printf: on Windows CivetWeb formats with msvcrt's printf,
  // which lacks %zu.
  const std::string head = "POST " + url.path + " HTTP/1.1\r\nHost: " + url.HostHeader() +
                           "\r\nUser-Agent: portwarden\r\nContent-Type: application/json"
                           "\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  if (mg_write(conn, head.data(), head.size()) != static_cast<int>(head.size()) ||
      mg_write(conn, body.data(), body.size()) != static_cast<int>(body.size())) {
    mg_close_connection(conn);
    return Error{"cannot send the request to " + url.HostHeader()};
  }
  if (mg_get_response(conn, error, sizeof error, static_cast<int>(timeout.count())) < 0) {
    mg_close_connection(conn);
    return Error{"no response from " + url.HostHeader() + ": " + (error[0] ? error : "timed out")};
  }
  HttpResult result;
  const mg_response_info* info = mg_get_response_info(conn);
  result.status = info ? info->status_code : 0;
  // The body only matters to explain a failure; a success's body is not read.
  if (result.status < 200 || result.status >= 300) {
    char buf[1024];
    int n = mg_read(conn, buf, sizeof buf);
    if (n > 0) result.body.assign(buf, static_cast<size_t>(n));
  }
  mg_close_connection(conn);
  return result;
}

}  // namespace portwarden::notifier
