#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <string>

#include "collectors/common/expected.h"
#include "exporter/sampler.h"

struct mg_context;
struct mg_connection;

namespace portwarden {

/// Options of the HTTP server.
struct WebOptions {
  std::string listen_address = ":10061";  ///< [host]:port; port 0 picks a free one
  std::string telemetry_path = "/metrics";
  /// POST /-/reload calls this; empty unless --web.enable-lifecycle (then 403).
  std::function<Expected<bool>()> reload;
};

/// The HTTP endpoints (/metrics, /, /-/healthy, /-/ready, /-/reload, /api/v1/state,
/// /api/v1/events) over CivetWeb. Handlers only
/// read the sampler's latest snapshot. Start/Stop from one thread; handlers run on
/// CivetWeb's worker threads.
class WebServer {
 public:
  WebServer(const Sampler& sampler, WebOptions options, std::shared_ptr<spdlog::logger> logger);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  /// Binds and starts serving. Returns the bound "host:port", or an error such as
  /// "address already in use".
  Expected<std::string> Start();
  void Stop();

 private:
  static int Dispatch(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);

  const Sampler& sampler_;
  WebOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  mg_context* ctx_ = nullptr;
};

/// CivetWeb's form of a Prometheus-style listen address (":10061" -> "10061").
Expected<std::string> CivetListenPorts(const std::string& listen_address);

}  // namespace portwarden
