// gzip on the telemetry path: the Accept-Encoding parser, and the responses of a WebServer
// on 127.0.0.1:0, read back with CivetWeb's client (so the test runs under Wine too) and
// zlib's inflate.
#include "exporter/web.h"

#include <civetweb.h>
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <cctype>
#include <chrono>
#include <map>

#include "exporter/collect.h"
#include "exporter/logging.h"
#include "exporter/sampler.h"
#include "tests/support/gunzip.h"
#include "tests/support/poll.h"

namespace portwarden {
namespace {

using testing::Gunzip;
using testing::PollUntil;

TEST(CivetListenPort, NoHostAndTheIpv6WildcardServeBothFamilies) {
  const struct {
    const char* address;
    const char* spec;
  } cases[] = {
      {":10061", "+10061"},           {"[::]:10061", "+10061"},
      {"0.0.0.0:10061", "10061"},     {"127.0.0.1:10061", "127.0.0.1:10061"},
      {"[::1]:0", "[::1]:0"},         {"[fe80::1%eth0]:80", "[fe80::1%eth0]:80"},
  };
  for (const auto& c : cases) {
    auto spec = CivetListenPort(c.address);
    ASSERT_TRUE(spec) << c.address << ": " << spec.error().message;
    EXPECT_EQ(*spec, c.spec) << c.address;
  }
  EXPECT_EQ(CivetListenPort("::1:80").error().message,
            "\"::1:80\": an IPv6 address needs brackets, e.g. [::1]:80");
  EXPECT_EQ(CivetListenPort("[::1]:99999").error().message,
            "invalid port \"99999\" in \"[::1]:99999\"");
  EXPECT_EQ(CivetListenPort("localhost").error().message, "missing port in \"localhost\"");
}

TEST(AcceptsGzip, ParsesTheHeaderAsRfc9110Says) {
  const struct {
    const char* header;
    bool gzip;
  } cases[] = {
      {"", false},
      {"gzip", true},
      {"GZIP", true},
      {"x-gzip", true},
      {"gzip;q=0", false},
      {"gzip; q=0.000", false},
      {"gzip;Q=0", false},
      {"gzip;q=0.001", true},
      {"gzip;q=1", true},
      {"gzip;q=1.000", true},
      {"*", true},
      {"*;q=0", false},
      {"identity", false},
      {"deflate", false},
      {"deflate, gzip;q=0.5", true},
      {"gzip, deflate, br", true},            // Go's, curl's and browsers' default
      {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},  // Prometheus' scrape
      {" deflate ,  gzip ; q=0.5 ", true},
      {"gzip;q=0, *", false},   // gzip named: "*" does not apply to it
      {"*;q=0, gzip", true},
      {"identity;q=0", false},
      {"gzipx, xgzip", false},
      {",,gzip,,", true},
      {"gzip;q=", false},       // malformed weights refuse
      {"gzip;q=2", false},
      {"gzip;q=1.5", false},
      {"gzip;q=0.5000", false},
      {"gzip;q=abc", false},
      {"gzip;level=1", true},   // other parameters do not matter
  };
  for (const auto& c : cases) EXPECT_EQ(AcceptsGzip(c.header), c.gzip) << '"' << c.header << '"';
}

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One request over CivetWeb's client; status 0 if there was no answer.
Response Fetch(int port, const std::string& method, const std::string& path,
               const std::string& headers = "") {
  static const unsigned initialised = mg_init_library(0);  // the client needs it (WSAStartup)
  (void)initialised;
  Response r;
  char error[256] = {};
  mg_connection* conn = mg_connect_client("127.0.0.1", port, 0, error, sizeof error);
  if (conn == nullptr) {
    ADD_FAILURE() << "connect: " << error;
    return r;
  }
  const std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              headers + "Connection: close\r\n\r\n";
  mg_write(conn, request.data(), request.size());
  if (mg_get_response(conn, error, sizeof error, 10000) >= 0) {
    const mg_response_info* info = mg_get_response_info(conn);
    r.status = info->status_code;
    for (int i = 0; i < info->num_headers; ++i) {
      std::string name = info->http_headers[i].name;
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = info->http_headers[i].value;
    }
    // After HEAD the server closes at once: nothing to read although Content-Length says more.
    char buf[65536];
    for (int n; (n = mg_read(conn, buf, sizeof buf)) > 0;) r.body.append(buf, size_t(n));
  }
  mg_close_connection(conn);
  return r;
}

// The daemon's pieces on 127.0.0.1:0: this host's listeners collected once, and a counter
// family standing in for the notifier's (rendered and deflated per request).
class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ParseConfig("collect: {interval: 1h}\n", "t.yml");
    ASSERT_TRUE(config) << config.error().message;
    sampler_ = std::make_unique<Sampler>(std::make_unique<Collectors>(MakeListenerSource({})),
                                         *config, ComponentLogger("sampler"));
    prometheus::BuildCounter()
        .Name("portwarden_test_live_total")
        .Help("Rendered per request.")
        .Register(registry_)
        .Add({})
        .Increment(3);
    WebOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.collectables = {&registry_};
    server_ = std::make_unique<WebServer>(*sampler_, options, ComponentLogger("web"));
    auto bound = server_->Start();
    ASSERT_TRUE(bound) << bound.error().message;
    ASSERT_EQ(bound->size(), 1u);
    port_ = std::stoi(bound->front().substr(bound->front().rfind(':') + 1));
    // One collection, then no more: every response below is of the same snapshot.
    sampler_->Start();
    PollUntil([&] { return sampler_->Latest() != nullptr; });
    sampler_->Stop();
    ASSERT_NE(sampler_->Latest(), nullptr);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  prometheus::Registry registry_;
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<WebServer> server_;
  int port_ = 0;
};

TEST_F(WebServerTest, GzipIsTheSameBodyWhenAccepted) {
  const Response plain = Fetch(port_, "GET", "/metrics");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("content-encoding"), "");
  EXPECT_EQ(plain.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(plain.Header("content-length"), std::to_string(plain.body.size()));
  // The listener families (shared by snapshots with the same listeners) come first.
  EXPECT_EQ(plain.body.rfind("# HELP portwarden_listener_info ", 0), 0u);
  EXPECT_NE(plain.body.find("\n# HELP portwarden_build_info "), std::string::npos);
  EXPECT_NE(plain.body.find("portwarden_test_live_total 3\n"), std::string::npos);

  const Response gzip = Fetch(port_, "GET", "/metrics", "Accept-Encoding: gzip\r\n");
  ASSERT_EQ(gzip.status, 200);
  EXPECT_EQ(gzip.Header("content-encoding"), "gzip");
  EXPECT_EQ(gzip.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(gzip.Header("content-type"), plain.Header("content-type"));
  EXPECT_EQ(gzip.Header("content-length"), std::to_string(gzip.body.size()));
  size_t members = 0;
  EXPECT_EQ(Gunzip(gzip.body, &members), plain.body);
  EXPECT_EQ(members, 1u);  // the cached snapshot text and the live families in one
  EXPECT_LT(gzip.body.size(), plain.body.size());

  // Compressed once: the next gzip scrape of the snapshot gets the very same bytes.
  EXPECT_EQ(Fetch(port_, "GET", "/metrics", "Accept-Encoding: gzip\r\n").body, gzip.body);

  const Response head = Fetch(port_, "HEAD", "/metrics", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-encoding"), "gzip");
  EXPECT_EQ(head.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(head.Header("content-length"), gzip.Header("content-length"));
  EXPECT_EQ(head.body, "");
}

TEST_F(WebServerTest, PlainWhenGzipIsNotAccepted) {
  const Response none = Fetch(port_, "GET", "/metrics");
  for (const char* header : {"Accept-Encoding: gzip;q=0\r\n", "Accept-Encoding: identity\r\n",
                             "Accept-Encoding: deflate, br\r\n"}) {
    const Response r = Fetch(port_, "GET", "/metrics", header);
    EXPECT_EQ(r.status, 200) << header;
    EXPECT_EQ(r.Header("content-encoding"), "") << header;
    EXPECT_EQ(r.Header("vary"), "Accept-Encoding") << header;
    EXPECT_EQ(r.body, none.body) << header;
  }
  // Other paths stay as they were.
  const Response state = Fetch(port_, "GET", "/api/v1/state", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(state.status, 200);
  EXPECT_EQ(state.Header("content-encoding"), "");
  EXPECT_NE(state.body.find("\"status\":\"success\"}"), std::string::npos);
}

}  // namespace
}  // namespace portwarden
