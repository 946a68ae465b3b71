#pragma once

#include <prometheus/collectable.h>
#include <spdlog/logger.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
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

/// The start of a gzip member (RFC 1952): the gzip header and a text deflated up to a byte
/// boundary (a sync flush) but not finished, so that GzipEnd can go on with more text in the
/// same member. One member rather than two concatenated ones: Go's reader (Prometheus'
/// scraper) takes several members, but curl 7.88 stops after the first with an error.
struct GzipStart {
  std::string bytes;    ///< empty if zlib failed (out of memory)
  uint32_t crc = 0;     ///< CRC-32 of the text
  uint32_t length = 0;  ///< of the text, modulo 2^32 as the trailer has it
};
GzipStart GzipBegin(std::string_view text);

/// The member `start` began, continued with `more` deflated up to a sync flush: the result's
/// bytes follow start.bytes (they do not repeat them); its crc and length are those of both
/// texts, so it can be continued or ended in turn.
GzipStart GzipContinue(const GzipStart& start, std::string_view more);

/// The rest of the member `start` began: `more` deflated up to the final block, then the
/// trailer (CRC-32 and length of both texts). start.bytes followed by this is gzip of the
/// start's text followed by `more`. Empty if zlib failed (out of memory).
std::string GzipEnd(const GzipStart& start, std::string_view more);

/// A response body rendered once, with the start of its gzip form made on first demand (a
/// body only plain clients ask for is never compressed). It may follow a prefix shared by
/// several bodies (the listener families, the same for every snapshot with the same
/// listeners), whose gzip form is then made once for all of them. Thread-safe.
class RenderedBody {
 public:
  explicit RenderedBody(std::string text, std::shared_ptr<const RenderedBody> prefix = nullptr)
      : RenderedBody(std::make_shared<const std::string>(std::move(text)), std::move(prefix)) {}
  /// A text kept elsewhere (not copied), alive as long as this body.
  RenderedBody(std::shared_ptr<const std::string> text, std::shared_ptr<const RenderedBody> prefix)
      : text_(std::move(text)), prefix_(std::move(prefix)) {}
  /// The plain body: the prefix's pieces, then text().
  std::vector<std::string_view> Pieces() const;
  /// The start of the gzip member in pieces, as Gzip().bytes of the prefix and of this body.
  std::vector<std::string_view> GzipPieces() const;
  const std::string& text() const { return *text_; }
  /// GzipBegin(text()), or GzipContinue(prefix's Gzip(), text()), compressed once by the
  /// first caller: concurrent callers wait for it, later ones share it.
  const GzipStart& Gzip() const;

 private:
  const std::shared_ptr<const std::string> text_;
  const std::shared_ptr<const RenderedBody> prefix_;
  mutable std::once_flag gzip_once_;
  mutable GzipStart gzip_;  // written once, under gzip_once_
};

/// Options of the HTTP server.
struct WebOptions {
  std::string listen_address = ":10061";  ///< [host]:port; port 0 picks a free one
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

  /// Reads the web config (if any), binds and starts serving. Returns the bound "host:port",
  /// or an error such as "address already in use", a positioned web config error, or an
  /// unreadable certificate or key.
  Expected<std::string> Start();
  void Stop();

 private:
  /// A response body rendered from one snapshot (and reload status), shared by every request
  /// until the next collection: scrape cost and memory no longer grow with the request rate
  /// or the number of concurrent clients (each would otherwise build its own copy, megabytes
  /// with thousands of listeners).
  struct RenderCache {
    std::mutex mu;
    std::shared_ptr<const Snapshot> snapshot;  // guarded by mu; what body was rendered from
    ReloadStatus reload;                       // guarded by mu
    std::shared_ptr<const RenderedBody> body;  // guarded by mu
  };
  /// The cached body for `snap` and `reload`, rendered by `render` if they changed.
  static std::shared_ptr<const RenderedBody> Cached(
      RenderCache& cache, const std::shared_ptr<const Snapshot>& snap, const ReloadStatus& reload,
      const std::function<std::shared_ptr<const RenderedBody>()>& render);
  /// The listener families of `snap` as a body prefix, made once per listener text.
  std::shared_ptr<const RenderedBody> ListenerPrefix(const Snapshot& snap);

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
  struct {
    std::mutex mu;
    std::shared_ptr<LazyText> text;              // guarded by mu; what prefix was made from
    std::shared_ptr<const RenderedBody> prefix;  // guarded by mu
  } listener_prefix_;
  RenderCache metrics_cache_;
  RenderCache state_cache_;
  RenderCache events_cache_;
  mg_context* ctx_ = nullptr;
};

/// CivetWeb's form of a Prometheus-style listen address (":10061" -> "10061").
Expected<std::string> CivetListenPorts(const std::string& listen_address);

}  // namespace portwarden
