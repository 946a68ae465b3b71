#include "exporter/web.h"

#include <civetweb.h>

#include <cstring>

#include "exporter/landing.h"
#include "exporter/logging.h"
#include "exporter/metrics.h"
#include "exporter/report.h"

namespace portwarden {
namespace {

void Send(mg_connection* conn, int status, const char* reason, const char* content_type,
          const std::string& body, bool head) {
  // Built here, not with mg_printf: on Windows CivetWeb formats with msvcrt, which lacks %zu.
  std::string head_text = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                          "\r\nContent-Type: " + content_type +
                          "\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n";
  mg_write(conn, head_text.data(), head_text.size());
  if (!head) mg_write(conn, body.data(), body.size());
}

// CivetWeb settings, chosen deliberately: a bounded worker pool, short timeouts so a slow
// client cannot hold a worker for long, and a small request size limit.
const char* const kCivetOptions[] = {
    "num_threads",       "8",
    "request_timeout_ms", "10000",
    "keep_alive_timeout_ms", "5000",
    "enable_keep_alive", "yes",
    "max_request_size",  "16384",
    "enable_directory_listing", "no",
};

}  // namespace

Expected<std::string> CivetListenPorts(const std::string& listen_address) {
  size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos) return Error{"missing port in \"" + listen_address + "\""};
  std::string host = listen_address.substr(0, colon);
  std::string port = listen_address.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      port.size() > 5 || std::stoul(port) > 65535) {
    return Error{"invalid port \"" + port + "\" in \"" + listen_address + "\""};
  }
  if (host.empty() || host == "0.0.0.0") return port;
  return host + ":" + port;
}

WebServer::WebServer(const Sampler& sampler, WebOptions options,
                     std::shared_ptr<spdlog::logger> logger)
    : sampler_(sampler), options_(std::move(options)), logger_(std::move(logger)) {}

WebServer::~WebServer() { Stop(); }

Expected<std::string> WebServer::Start() {
  auto ports = CivetListenPorts(options_.listen_address);
  if (!ports) return Error{"--web.listen-address: " + ports.error().message};
  std::vector<const char*> opts(std::begin(kCivetOptions), std::end(kCivetOptions));
  opts.push_back("listening_ports");
  opts.push_back(ports->c_str());
  opts.push_back(nullptr);

  mg_callbacks callbacks{};
  // Swallow CivetWeb's own log lines; errors come back through mg_error_data.
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = opts.data();
  char text[256] = {};
  unsigned code = 0;
  mg_error_data error{&code, text, sizeof text};
  ctx_ = mg_start2(&init, &error);
  if (ctx_ == nullptr) return Error{text[0] ? text : "cannot start the HTTP server"};
  mg_set_request_handler(ctx_, "/", &WebServer::Dispatch, this);

  mg_server_port bound[4] = {};
  int n = mg_get_server_ports(ctx_, 4, bound);
  if (n <= 0) return Error{"the HTTP server bound no port"};
  std::string host = options_.listen_address.substr(0, options_.listen_address.rfind(':'));
  return host + ":" + std::to_string(bound[0].port);
}

void WebServer::Stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

int WebServer::Dispatch(mg_connection* conn, void* self) {
  return static_cast<WebServer*>(self)->Handle(conn);
}

int WebServer::Handle(mg_connection* conn) {
  const mg_request_info* req = mg_get_request_info(conn);
  const std::string uri = req->local_uri ? req->local_uri : "";
  const bool head = std::strcmp(req->request_method, "HEAD") == 0;
  const bool post = std::strcmp(req->request_method, "POST") == 0;
  if (uri == "/-/reload") {
    if (!post && std::strcmp(req->request_method, "PUT") != 0) {
      Send(conn, 405, "Method Not Allowed", "text/plain; charset=utf-8",
           "use POST or PUT\n", head);
      return 405;
    }
    if (!options_.reload) {
      Send(conn, 403, "Forbidden", "text/plain; charset=utf-8",
           "Lifecycle API is not enabled (--web.enable-lifecycle).\n", false);
      return 403;
    }
    auto reloaded = options_.reload();
    if (!reloaded) {
      Send(conn, 500, "Internal Server Error", "text/plain; charset=utf-8",
           "failed to reload config: " + reloaded.error().message + "\n", false);
      return 500;
    }
    Send(conn, 200, "OK", "text/plain; charset=utf-8", "config reloaded\n", false);
    return 200;
  }
  if (!head && std::strcmp(req->request_method, "GET") != 0) {
    Send(conn, 405, "Method Not Allowed", "text/plain; charset=utf-8",
         "method not allowed\n", false);
    return 405;
  }
  auto snap = sampler_.Latest();
  if (uri == options_.telemetry_path) {
    Send(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
         RenderText(SnapshotMetrics(snap.get(), sampler_.Reload())), head);
    return 200;
  }
  if (uri == "/-/healthy") {
    Send(conn, 200, "OK", "text/plain; charset=utf-8", "Healthy\n", head);
    return 200;
  }
  if (uri == "/-/ready") {
    if (snap) {
      Send(conn, 200, "OK", "text/plain; charset=utf-8", "Ready\n", head);
      return 200;
    }
    Send(conn, 503, "Service Unavailable", "text/plain; charset=utf-8",
         "Not ready: the first collection has not finished\n", head);
    return 503;
  }
  if (uri == "/api/v1/state" || uri == "/api/v1/events") {
    if (!snap) {
      Send(conn, 503, "Service Unavailable", "application/json",
           R"({"status":"error","error":"the first collection has not finished"})" "\n", head);
      return 503;
    }
    nlohmann::json body = {{"status", "success"},
                           {"data", uri == "/api/v1/state" ? StateJson(*snap) : EventsJson(*snap)}};
    // replace: host-derived strings (process names) may hold invalid UTF-8.
    Send(conn, 200, "OK", "application/json",
         body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", head);
    return 200;
  }
  if (uri == "/") {
    Send(conn, 200, "OK", "text/html; charset=utf-8",
         LandingPage(snap.get(), options_.telemetry_path), head);
    return 200;
  }
  Send(conn, 404, "Not Found", "text/plain; charset=utf-8", "not found\n", head);
  return 404;
}

}  // namespace portwarden
