#pragma once

#include <prometheus/collectable.h>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "exporter/rendered_body.h"
#include "exporter/sampler.h"
#include "exporter/web_config.h"

struct mg_context;
struct mg_connection;

namespace portwarden {

/// Whether an Accept-Encoding value (several header lines joined by commas) accepts gzip
/// (RFC 9110 12.5.3): the weight of its "gzip" (or "x-gzip") element, or without one that of
/// "*", is above 0; an element without "q=" weighs 1. Codings and "q" are case-insensitive;
/// a malformed weight refuses. Preferences among the accepted codings are not weighed: gzip
/// is sent to any client that takes it, as the Go client library and node_exporter do.
bool AcceptsGzip(std::string_view accept_encoding);

/// Options of the HTTP server.
struct WebOptions {
  /// --web.listen-address, repeatable: [host]:port; port 0 picks a free one. No host or
  /// "[::]" serves IPv4 and IPv6, "0.0.0.0" IPv4 only, an address that address only.
  std::vector<std::string> listen_addresses;
  /// --web.read-timeout: how long a client may take to send its request head (and each
  /// response write may take); a connection without a full head by then is closed.
  std::chrono::milliseconds read_timeout{5000};
  /// --web.max-connections: connections that may wait for their request head at once, each
  /// holding a descriptor but no thread; when full, the oldest waiting one is closed.
  int max_connections = 4096;
  std::string telemetry_path = "/metrics";
  /// POST /-/reload calls this; empty unless --web.enable-lifecycle (then 403).
  std::function<Expected<bool>()> reload;
  /// --web.config.file (exporter-toolkit format: TLS, basic auth, headers), read by Start();
  /// empty: plain HTTP, no authentication.
  std::string web_config_file;
  /// More metric families for the telemetry path, after the snapshot's (the notifier's
  /// counters). Each must be thread-safe and outlive the server.
  std::vector<const prometheus::Collectable*> collectables;
};

/// The HTTP endpoints (/metrics, /, /-/healthy, /-/ready, /-/reload, /api/v1/state,
/// /api/v1/events) over CivetWeb, optionally behind TLS and basic auth (WebOptions::
/// web_config_file). Handlers only read the sampler's latest snapshot. Start/Stop from one
/// thread; handlers run on CivetWeb's worker threads.
class WebServer {
 public:
  WebServer(const Sampler& sampler, WebOptions options, std::shared_ptr<spdlog::logger> logger);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  /// Reads the web config (if any), binds every listen address and starts serving. Returns
  /// the bound "host:port"s in the order given, or an error: "cannot listen on ADDRESS:
  /// address already in use" (or another reason), a positioned web config error, or an
  /// unreadable certificate or key.
  Expected<std::vector<std::string>> Start();
  void Stop();

 private:
  /// A response body rendered from one snapshot (and reload status), shared by every request
  /// until the next collection: scrape cost and memory no longer grow with the request rate
  /// or the number of concurrent clients (each would otherwise build its own copy, megabytes
  /// with thousands of listeners).
  struct RenderCache {
    std::mutex mu;
    // Guarded by mu; what body was rendered from. Weak: an old snapshot (and its listener
    // set, megabytes of small blocks) is freed when the sampler replaces it, not kept until
    // the next request, in the middle of the heap that the sets after it are built in.
    std::weak_ptr<const Snapshot> snapshot;
    ReloadStatus reload;                       // guarded by mu
    std::shared_ptr<const RenderedBody> body;  // guarded by mu
  };
  /// The cached body for `snap` and `reload`, rendered by `render` if they changed.
  static std::shared_ptr<const RenderedBody> Cached(
      RenderCache& cache, const std::shared_ptr<const Snapshot>& snap, const ReloadStatus& reload,
      const std::function<std::shared_ptr<const RenderedBody>()>& render);

  /// The server's own families: connections waiting for their head and those dropped by a
  /// limit. Rendered per request, like WebOptions::collectables.
  std::vector<prometheus::MetricFamily> ServerMetrics() const;

  static int Dispatch(mg_connection* conn, void* self);
  int Handle(mg_connection* conn);
  /// Writes one response with the configured security headers.
  void Send(mg_connection* conn, int status, const char* reason, const char* content_type,
            std::string_view body, bool head, const char* extra_headers = "") const;
  /// The same with a body in pieces, one write each: no multi-megabyte concatenation.
  void Send(mg_connection* conn, int status, const char* reason, const char* content_type,
            const std::vector<std::string_view>& pieces, bool head,
            const char* extra_headers) const;
#ifndef _WIN32
  /// CivetWeb's init_ssl callback: loads the certificate and key, sets the minimum version.
  static int InitTls(void* ssl_ctx, void* self);
  std::unique_ptr<BasicAuthenticator> auth_;  // set by Start() when users are configured
#endif

  const Sampler& sampler_;
  WebOptions options_;
  std::shared_ptr<spdlog::logger> logger_;
  WebConfig web_config_;       // read by Start(), then constant
  std::string extra_headers_;  // "Name: value\r\n" lines from http_server_config.headers
  std::string tls_error_;      // what InitTls failed on, for Start()'s error
  RenderCache metrics_cache_;
  RenderCache state_cache_;
  RenderCache events_cache_;
  mg_context* ctx_ = nullptr;
};

/// CivetWeb's form of a Prometheus-style listen address: ":10061" and "[::]:10061" ->
/// "+10061" (IPv4 and IPv6), "0.0.0.0:10061" -> "10061", "[::1]:10061" and
/// "127.0.0.1:10061" unchanged. An error names the address and what is wrong with it.
Expected<std::string> CivetListenPort(const std::string& listen_address);

}  // namespace portwarden
