#include "exporter/web.h"

#include <civetweb.h>

#include <algorithm>
#include <cstring>
#include <optional>

#ifndef _WIN32
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#include "collectors/common/text.h"
#include "exporter/heap.h"
#include "exporter/landing.h"
#include "exporter/logging.h"
#include "exporter/metrics.h"
#include "exporter/report.h"

namespace portwarden {
namespace {

// CivetWeb settings, chosen deliberately. CivetWeb gives each connection a worker thread
// from the moment its request head is in (measured with scripts/load-test.sh, see README):
//  - pending_connections (--web.max-connections) and request_timeout_ms
//    (--web.read-timeout), set in Start(): before that, a connection waits in the reception
//    stage of portwarden's CivetWeb (scripts/civetweb/reception.patch), one poll set in the
//    accept thread, holding a descriptor and no thread; idle and slowloris clients wait
//    there until their head is complete, the read timeout passes or newer ones push them out.
//  - num_threads 32: requests in flight at once; a thread is a mostly unmapped stack,
//    ~100 KiB of RSS. The read timeout also bounds each response write: a scrape sends its
//    head in one packet, and 5 s still carries a 5000-series /metrics (~2 MB) over a slow
//    link.
//  - enable_keep_alive no: an idle kept-alive connection would pin a worker, and
//    Prometheus scrapes every 15-60 s, longer than any keep-alive worth granting.
//  - max_request_size 16384: the request head limit; our requests have no body. A longer
//    head gets 400 and is closed.
const char* const kCivetOptions[] = {
    "num_threads",       "32",
    "enable_keep_alive", "no",
    "max_request_size",  "16384",
    "enable_directory_listing", "no",
};

// CivetWeb's log lines while Start() runs on this thread (its errors say which port failed
// and why); null elsewhere, so worker threads' lines are dropped.
thread_local std::vector<std::string>* t_start_log = nullptr;

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// The text before the next `sep` (all of it if none), taken off `rest` with the separator.
std::string_view Pop(std::string_view& rest, char sep) {
  const size_t at = rest.find(sep);
  const std::string_view item = rest.substr(0, at);
  rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + 1);
  return item;
}

// An RFC 9110 qvalue ("0", "0.5", "1.000") in thousandths; nullopt if malformed.
std::optional<int> ParseWeight(std::string_view q) {
  if (q.empty() || (q[0] != '0' && q[0] != '1')) return std::nullopt;
  int thousandths = q[0] == '1' ? 1000 : 0;
  if (q.size() == 1) return thousandths;
  if (q[1] != '.' || q.size() > 5) return std::nullopt;
  int scale = 100;
  for (char c : q.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    thousandths += (c - '0') * scale;
    scale /= 10;
  }
  if (thousandths > 1000) return std::nullopt;
  return thousandths;
}

// A large render's scratch (a JSON tree is ~10x its text) was freed in the middle of the
// heap, which glibc would otherwise keep: a large render gives it back at once; a small
// one (a snapshot's own families) is not worth the trim, which takes milliseconds.
void AfterRender(size_t text_size) {
  if (text_size >= 256 * 1024) ReleaseFreeHeap();
}

// Every Accept-Encoding line of the request, joined by commas (mg_get_header gives only the
// first; a list split over several lines means the same as one line).
std::string AcceptEncoding(const mg_request_info& req) {
  std::string joined;
  for (int i = 0; i < req.num_headers; ++i) {
    if (EqualsIgnoreCase(req.http_headers[i].name, "Accept-Encoding")) {
      if (!joined.empty()) joined += ',';
      joined += req.http_headers[i].value;
    }
  }
  return joined;
}

#ifndef _WIN32
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

int OpenSslVersion(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls10: return TLS1_VERSION;
    case TlsVersion::kTls11: return TLS1_1_VERSION;
    case TlsVersion::kTls12: return TLS1_2_VERSION;
    case TlsVersion::kTls13: return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}
#endif

// Why CivetWeb could not serve `address`, its `entry`th listening port (given to it as
// `spec`), from the lines it logged while starting; empty if they do not say.
std::string BindError(const std::vector<std::string>& start_log, const std::string& address,
                      const std::string& spec, size_t entry) {
  const bool ipv6 = spec.front() == '+' || spec.front() == '[';
  const std::string entry_tag = " (entry " + std::to_string(entry) + ")";
  for (const std::string& line : start_log) {
    // "cannot bind to +10061: 98 (Address already in use)", also "cannot bind to IPv6 ..."
    if (line.find("cannot bind to " + spec + ": ") != std::string::npos ||
        line.find("cannot bind to IPv6 " + spec + ": ") != std::string::npos) {
      const size_t open = line.rfind('(');
      std::string why = open == std::string::npos ? line : line.substr(open + 1);
      if (!why.empty() && why.back() == ')') why.pop_back();
      why = ToLowerAscii(why);
      const unsigned long port = std::stoul(address.substr(address.rfind(':') + 1));
      if (why == "permission denied" && port != 0 && port < 1024) {
        why += " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)";
      }
      return why;
    }
    if (const size_t at = line.find(entry_tag); at != std::string::npos) {
      std::string why = line.substr(0, at);
      if (why == "cannot create socket" && ipv6) {
        why += " (is IPv6 enabled on this host? 0.0.0.0:PORT listens on IPv4 only)";
      }
      return why;
    }
  }
  return "";
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<int> gzip, any;  // weights in thousandths
  while (!accept_encoding.empty()) {
    std::string_view params = Pop(accept_encoding, ',');  // "gzip;q=0.5"
    const std::string_view coding = Trim(Pop(params, ';'));
    if (coding.empty()) continue;
    std::optional<int> weight = 1000;
    while (!params.empty()) {
      std::string_view value = Pop(params, ';');
      if (EqualsIgnoreCase(Trim(Pop(value, '=')), "q")) weight = ParseWeight(Trim(value));
    }
    const int w = weight.value_or(0);
    if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip")) {
      gzip = std::max(gzip.value_or(0), w);
    } else if (coding == "*") {
      any = std::max(any.value_or(0), w);
    }
  }
  return gzip.value_or(any.value_or(0)) > 0;
}

Expected<std::string> CivetListenPort(const std::string& listen_address) {
  size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos) return Error{"missing port in \"" + listen_address + "\""};
  std::string host = listen_address.substr(0, colon);
  std::string port = listen_address.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos ||
      port.size() > 5 || std::stoul(port) > 65535) {
    return Error{"invalid port \"" + port + "\" in \"" + listen_address + "\""};
  }
  // Like Go's net.Listen, which exporter-toolkit uses: no host and [::] take both families.
  if (host.empty() || host == "[::]") return "+" + port;
  if (host == "0.0.0.0") return port;
  const bool bracketed = host.front() == '[' && host.back() == ']';
  if (host.find(':') != std::string::npos && !bracketed) {
    return Error{"\"" + listen_address + "\": an IPv6 address needs brackets, e.g. [::1]:" + port};
  }
  return host + ":" + port;
}

WebServer::WebServer(const Sampler& sampler, WebOptions options,
                     std::shared_ptr<spdlog::logger> logger)
    : sampler_(sampler), options_(std::move(options)), logger_(std::move(logger)) {}

WebServer::~WebServer() { Stop(); }

Expected<std::vector<std::string>> WebServer::Start() {
  std::vector<std::string> specs;  // CivetWeb's form of each listen address
  for (const std::string& address : options_.listen_addresses) {
    auto spec = CivetListenPort(address);
    if (!spec) return Error{"--web.listen-address: " + spec.error().message};
    specs.push_back(*spec);
  }
  if (!options_.web_config_file.empty()) {
    auto loaded = LoadWebConfig(options_.web_config_file);
    if (!loaded) return Error{"--web.config.file: " + loaded.error().message};
    web_config_ = std::move(*loaded);
  }
  extra_headers_.clear();
  for (const auto& [name, value] : web_config_.headers) {
    // Every response already says nosniff, the only value the config may give it.
    if (name != "X-Content-Type-Options") extra_headers_ += name + ": " + value + "\r\n";
  }
  mg_callbacks callbacks{};
#ifndef _WIN32
  if (!web_config_.basic_auth_users.empty()) {
    auth_ = std::make_unique<BasicAuthenticator>(web_config_.basic_auth_users);
  }
  if (web_config_.tls) {
    if (mg_check_feature(MG_FEATURES_TLS) == 0) {
      return Error{"--web.config.file: tls_server_config is set but this CivetWeb has no TLS"};
    }
    for (std::string& spec : specs) spec += "s";  // CivetWeb's marker for a TLS port
    // InitTls sets up the whole SSL_CTX: CivetWeb wants certificate and key in one PEM file,
    // and once the callback has done the certificate CivetWeb skips its ssl_* options.
    callbacks.init_ssl = &WebServer::InitTls;
  }
#endif
  std::string listening;
  for (const std::string& spec : specs) listening += (listening.empty() ? "" : ",") + spec;
  const std::string read_timeout = std::to_string(options_.read_timeout.count());
  const std::string pending = std::to_string(options_.max_connections);
  std::vector<const char*> opts(std::begin(kCivetOptions), std::end(kCivetOptions));
  for (const char* opt : {"listening_ports", listening.c_str(), "request_timeout_ms",
                          read_timeout.c_str(), "pending_connections", pending.c_str()}) {
    opts.push_back(opt);
  }
  opts.push_back(nullptr);

  // CivetWeb's own log lines are kept during start only; errors come back through
  // mg_error_data and those lines.
  callbacks.log_message = [](const mg_connection*, const char* message) {
    if (t_start_log != nullptr) t_start_log->emplace_back(message);
    return 1;
  };
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = this;
  init.configuration_options = opts.data();
  char text[256] = {};
  unsigned code = 0;
  mg_error_data error{&code, text, sizeof text};
  tls_error_.clear();
  std::vector<std::string> start_log;
  t_start_log = &start_log;
  ctx_ = mg_start2(&init, &error);
  t_start_log = nullptr;
  std::vector<mg_server_port> bound(specs.size() + 1);
  const int n = ctx_ == nullptr ? 0 : mg_get_server_ports(ctx_, int(bound.size()), bound.data());
  if (n != int(specs.size())) {
    // CivetWeb serves the ports it could bind and fails only when none: one that failed is
    // as fatal here as all of them.
    Stop();
    if (!tls_error_.empty()) return Error{"--web.config.file: " + tls_error_};
    for (size_t i = 0; i < specs.size(); ++i) {
      std::string why = BindError(start_log, options_.listen_addresses[i], specs[i], i + 1);
      if (!why.empty()) return Error{"cannot listen on " + options_.listen_addresses[i] + ": " + why};
    }
    return Error{text[0] ? text : "cannot start the HTTP server"};
  }
  mg_set_request_handler(ctx_, "/", &WebServer::Dispatch, this);

  std::vector<std::string> addresses;
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string& address = options_.listen_addresses[i];
    addresses.push_back(address.substr(0, address.rfind(':')) + ":" +
                        std::to_string(bound[i].port));
  }
  return addresses;
}

void WebServer::Stop() {
  if (ctx_ != nullptr) {
    mg_stop(ctx_);
    ctx_ = nullptr;
  }
}

#ifndef _WIN32
int WebServer::InitTls(void* ssl_ctx, void* self) {
  auto* server = static_cast<WebServer*>(self);
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  const TlsServerConfig& tls = *server->web_config_.tls;
  auto fail = [&](const std::string& what) {
    server->tls_error_ = what + ": " + OpenSslError();
    return -1;
  };
  // The chain variant takes the server certificate followed by its intermediates, as Go's
  // tls.LoadX509KeyPair does with the toolkit's cert_file.
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    return fail("tls_server_config.cert_file " + tls.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail("tls_server_config.key_file " + tls.key_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail("tls_server_config.key_file " + tls.key_file + " does not match cert_file");
  }
  if (SSL_CTX_set_min_proto_version(ctx, OpenSslVersion(tls.min_version)) != 1) {
    return fail("tls_server_config.min_version");
  }
  if (tls.client_auth != ClientAuth::kNoClientCert) {
    // Only client_ca_file may vouch for a client, never the system's CA store.
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      return fail("tls_server_config.client_ca_file " + tls.client_ca_file);
    }
    // Tells clients which CAs are accepted, so they pick the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) return fail("tls_server_config.client_ca_file " + tls.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx, names);
    const bool required = tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       nullptr);
    // Session resumption with client certificates needs a context id; any constant will do.
    static constexpr unsigned char kSessionContext[] = "portwarden";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  }
  return 1;  // CivetWeb takes the context as it is
}
#endif

std::shared_ptr<const RenderedBody> WebServer::Cached(
    RenderCache& cache, const std::shared_ptr<const Snapshot>& snap, const ReloadStatus& reload,
    const std::function<std::shared_ptr<const RenderedBody>()>& render) {
  // Rendering under the lock: concurrent requests for a new snapshot wait for one render
  // instead of each making their own copy of a multi-megabyte body.
  std::lock_guard lock(cache.mu);
  if (!cache.body || cache.snapshot.lock() != snap ||
      cache.reload.successful != reload.successful ||
      cache.reload.success_timestamp != reload.success_timestamp) {
    cache.body = render();
    cache.snapshot = snap;
    cache.reload = reload;
    AfterRender(cache.body->text().size());
  }
  return cache.body;
}

int WebServer::Dispatch(mg_connection* conn, void* self) {
  return static_cast<WebServer*>(self)->Handle(conn);
}

std::vector<prometheus::MetricFamily> WebServer::ServerMetrics() const {
  mg_reception_stats stats{};
  mg_get_reception_stats(ctx_, &stats);
  std::vector<prometheus::MetricFamily> out;
  out.push_back(NewFamily("portwarden_http_connections_waiting",
                          "Connections accepted and waiting for their request head; they hold "
                          "no worker thread (at most --web.max-connections)."));
  Add(out.back(), {}, double(stats.waiting));
  out.push_back(NewFamily("portwarden_http_connections_dropped_total",
                          "Connections closed before a request was read: read_timeout, no full "
                          "request head within --web.read-timeout; max_connections, the oldest "
                          "waiting one when --web.max-connections were waiting or no "
                          "descriptor was left.",
                          prometheus::MetricType::Counter));
  Add(out.back(), {{"reason", "read_timeout"}}, double(stats.timed_out));
  Add(out.back(), {{"reason", "max_connections"}}, double(stats.evicted));
  return out;
}

void WebServer::Send(mg_connection* conn, int status, const char* reason,
                     const char* content_type, std::string_view body, bool head,
                     const char* extra_headers) const {
  Send(conn, status, reason, content_type, std::vector<std::string_view>{body}, head,
       extra_headers);
}

void WebServer::Send(mg_connection* conn, int status, const char* reason,
                     const char* content_type, const std::vector<std::string_view>& pieces,
                     bool head, const char* extra_headers) const {
  size_t length = 0;
  for (std::string_view piece : pieces) length += piece.size();
  // Built here, not with mg_printf: on Windows CivetWeb formats with msvcrt, which lacks %zu.
  std::string head_text = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                          "\r\nContent-Type: " + content_type +
                          "\r\nContent-Length: " + std::to_string(length) +
                          // One request per connection (no keep-alive, see kCivetOptions).
                          "\r\nConnection: close" +
                          "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n" +
                          extra_headers_ + extra_headers + "\r\n";
  mg_write(conn, head_text.data(), head_text.size());
  if (head) return;
  for (std::string_view piece : pieces) {
    if (!piece.empty()) mg_write(conn, piece.data(), piece.size());
  }
}

int WebServer::Handle(mg_connection* conn) {
  const mg_request_info* req = mg_get_request_info(conn);
#ifndef _WIN32
  if (auth_) {
    const char* header = mg_get_header(conn, "Authorization");
    auto credentials = header ? ParseBasicAuthorization(header) : std::nullopt;
    if (!credentials || !auth_->Check(*credentials)) {
      // Same answer for a missing header, an unknown user and a wrong password.
      Log(*logger_, spdlog::level::debug, "basic auth failed",
          {{"remote", req->remote_addr}, {"path", req->local_uri ? req->local_uri : ""}});
      Send(conn, 401, "Unauthorized", "text/plain; charset=utf-8", "Unauthorized\n",
           std::strcmp(req->request_method, "HEAD") == 0,
           "WWW-Authenticate: Basic realm=\"portwarden\", charset=\"UTF-8\"\r\n");
      return 401;
    }
  }
#endif
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
    const ReloadStatus reload = sampler_.Reload();
    // The listener families (megabytes with thousands of listeners) are rendered and
    // compressed once per listener set; a new snapshot adds only its own small families.
    auto body = Cached(metrics_cache_, snap, reload, [&] {
      std::string own = RenderText(SnapshotMetrics(snap.get(), reload));
      return std::make_shared<const RenderedBody>(std::move(own),
                                                  snap ? snap->listener_body : nullptr);
    });
    // The collectables (the notifier's counters) change between collections, so they are
    // rendered per request, after the cached snapshot text; they are a few small families.
    std::vector<prometheus::MetricFamily> live = ServerMetrics();
    for (const prometheus::Collectable* c : options_.collectables) {
      auto more = c->Collect();
      live.insert(live.end(), std::make_move_iterator(more.begin()),
                  std::make_move_iterator(more.end()));
    }
    const std::string live_text = RenderText(live);
    // Vary on every answer: a cache in between must not hand gzip to a client that did not
    // ask for it, nor plain text to one that did.
    if (AcceptsGzip(AcceptEncoding(*req))) {
      // One gzip member in three writes: the listener families, deflated once per
      // listener set; the snapshot's families, deflated once per snapshot by its first gzip
      // request; the live families (a few hundred bytes, deflated per request) with the
      // trailer.
      const std::string end = GzipEnd(body->Gzip(), live_text);
      if (!end.empty()) {
        std::vector<std::string_view> pieces = body->GzipPieces();
        pieces.push_back(end);
        Send(conn, 200, "OK", kMetricsContentType, pieces, head,
             "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
        return 200;
      }
      // zlib failed (out of memory): plain text, which every client takes.
    }
    std::vector<std::string_view> pieces = body->Pieces();
    pieces.push_back(live_text);
    Send(conn, 200, "OK", kMetricsContentType, pieces, head, "Vary: Accept-Encoding\r\n");
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
    const bool state = uri == "/api/v1/state";
    auto body = Cached(state ? state_cache_ : events_cache_, snap, {}, [&] {
      nlohmann::json json = {{"status", "success"},
                             {"data", state ? StateJson(*snap) : EventsJson(*snap)}};
      // replace: host-derived strings (process names) may hold invalid UTF-8.
      return std::make_shared<const RenderedBody>(
          json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    });
    Send(conn, 200, "OK", "application/json", body->text(), head);
    return 200;
  }
  if (uri == "/") {
    Send(conn, 200, "OK", "text/html; charset=utf-8",
         LandingPage(snap.get(), options_.telemetry_path,
                     ParseLandingQuery(req->query_string ? req->query_string : "")),
         head);
    return 200;
  }
  Send(conn, 404, "Not Found", "text/plain; charset=utf-8", "not found\n", head);
  return 404;
}

}  // namespace portwarden
