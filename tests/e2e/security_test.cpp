// The real daemon behind --web.config.file (TLS, mutual TLS, basic auth, headers, config
// errors), host-derived strings that try to break the exposition format and the JSON, and
// least privilege: run as nobody with and without the two capabilities.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <fstream>
#include <regex>

#include "tests/support/test_support.h"

namespace portwarden::testing {
namespace {

// A first full scan of /proc takes seconds on a busy machine with hundreds of processes.
constexpr std::chrono::seconds kFirstSample{30};

// Made with libxcrypt at cost 4: password "secret".
constexpr const char* kSecretHash = "$2b$04$Q6ifT2DtnXuymxtmXbPAx.9Qte2wU.qFO7CecWjJcQQzeOEy7jQ1O";

std::string MakeTempDir() {
  std::string dir = "/tmp/portwarden-sec-XXXXXX";
  return mkdtemp(dir.data()) ? dir : "";
}

/// A throwaway PKI made with the openssl command: a CA, a server certificate for 127.0.0.1
/// and ::1 signed by it, a client certificate signed by it, and a client certificate signed by a
/// second, untrusted CA. EC P-256 keys keep it fast.
class Pki {
 public:
  Pki() : dir_(MakeTempDir()) {
    std::ofstream(dir_ + "/server.ext") << "subjectAltName=IP:127.0.0.1,IP:::1\n";
    std::ofstream(dir_ + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    std::string script = "set -e; cd " + dir_ + ";";
    for (const char* ca : {"ca", "rogue-ca"}) {
      script += "openssl req -x509" + key + " -keyout " + ca + ".key -out " + ca +
                ".crt -subj /CN=" + ca + " -days 2;";
    }
    auto sign = [&](const std::string& name, const std::string& ca, const std::string& ext) {
      script += "openssl req" + key + " -keyout " + name + ".key -out " + name +
                ".csr -subj /CN=" + name + ";";
      script += "openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
                ".key -CAcreateserial -days 2 -out " + name + ".crt -extfile " + ext + ";";
    };
    sign("server", "ca", "server.ext");
    sign("client", "ca", "client.ext");
    sign("rogue-client", "rogue-ca", "client.ext");
    auto made = RunCommand("sh -c '" + script + "'");
    ok_ = made.status == 0;
    output_ = made.output;
  }
  ~Pki() { std::filesystem::remove_all(dir_); }
  bool ok() const { return ok_; }
  const std::string& output() const { return output_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  /// Writes a web config into the PKI directory (so relative paths resolve there).
  std::string WriteWebConfig(const std::string& text) const {
    std::ofstream(dir_ + "/web.yml") << text;
    return dir_ + "/web.yml";
  }

 private:
  std::string dir_;
  bool ok_ = false;
  std::string output_;
};

struct CurlResult {
  int exit_code = -1;  ///< curl's: 0 for an answer, 35, 56, 60 ... for TLS errors
  int status = 0;      ///< HTTP status, 0 if there was no HTTP answer
  std::string headers;
  std::string body;
};

/// One request with the curl command, which speaks TLS and client certificates.
CurlResult Curl(const std::string& args) {
  auto r = RunCommand("curl -sS --max-time 10 -D - " + args);
  CurlResult out;
  out.exit_code = r.status;
  size_t split = r.output.find("\r\n\r\n");
  if (r.status != 0 || split == std::string::npos) {
    out.body = r.output;  // curl's error, for the failure message
    return out;
  }
  out.headers = r.output.substr(0, split);
  out.body = r.output.substr(split + 4);
  std::sscanf(out.headers.c_str(), "HTTP/%*s %d", &out.status);
  return out;
}

std::string Https(int port, const std::string& path) {
  return "https://127.0.0.1:" + std::to_string(port) + path;
}

/// A request the TLS layer refused: curl failed with an error matching `error` (its exit
/// code and message), and right after it the daemon still answers `served` (a good client)
/// with 200. No HTTP answer alone is also what a crashed daemon gives (curl's 7, refused).
void ExpectTlsRefused(const CurlResult& refused, const std::string& error,
                      const std::function<CurlResult()>& served) {
  EXPECT_EQ(refused.status, 0) << refused.headers;
  EXPECT_TRUE(std::regex_search(refused.body, std::regex("^curl: \\(" + error)))
      << "curl exited " << refused.exit_code << ": " << refused.body;
  const CurlResult after = served();
  EXPECT_EQ(after.status, 200) << "the daemon no longer serves: " << after.body;
}

/// A client certificate the server must refuse (`args` gives it, or none), with TLS 1.2 and
/// 1.3. In 1.2 the server checks it inside the handshake: curl fails it (35) with the
/// server's alert. In 1.3 the client has finished the handshake and sent its request when
/// the server's alert comes and the server closes; curl reads the alert (56) or, when the
/// close's reset beats it, fails on the dead connection (55).
void ExpectClientCertRefused(const std::string& args, const std::string& alert,
                             const std::string& alert13,
                             const std::function<CurlResult()>& served) {
  ExpectTlsRefused(Curl("--tls-max 1.2 " + args), "35\\) .*alert " + alert, served);
  ExpectTlsRefused(Curl("--tlsv1.3 " + args),
                   "(56\\) .*alert " + alert13 + "|55\\) getpeername\\(\\) failed)", served);
}

TEST(SecurityE2e, TlsServesHttpsOnlyAndHonoursMinVersion) {
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.output();
  std::string web = pki.WriteWebConfig(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  min_version: TLS13\n");
  DaemonProcess d({"--web.config.file=" + web});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();

  CurlResult metrics;
  ASSERT_TRUE(PollUntil([&] {
    metrics = Curl("--cacert " + pki.Path("ca.crt") + " " + Https(d.port(), "/metrics"));
    return metrics.body.find("portwarden_listener_info") != std::string::npos;
  }, kFirstSample)) << metrics.body;
  EXPECT_EQ(metrics.status, 200);
  const std::string ca = "--cacert " + pki.Path("ca.crt") + " ";
  auto healthy = [&] { return Curl(ca + Https(d.port(), "/-/healthy")); };
  // Plain HTTP on the TLS port gets no HTTP answer, and the daemon goes on serving TLS.
  EXPECT_EQ(d.Get("/metrics").status, 0);
  EXPECT_EQ(healthy().status, 200);
  // TLS 1.2 is below min_version: the server refuses the handshake.
  ExpectTlsRefused(Curl("--tls-max 1.2 " + ca + Https(d.port(), "/")),
                   "35\\) .*alert protocol version", healthy);
  // The certificate is checked by the client: one from another CA is refused.
  ExpectTlsRefused(Curl("--cacert " + pki.Path("rogue-ca.crt") + " " + Https(d.port(), "/")),
                   "60\\) SSL certificate problem", healthy);
}

TEST(SecurityE2e, MutualTlsRequiresAClientCertificateFromClientCa) {
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.output();
  std::string web = pki.WriteWebConfig(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n");
  DaemonProcess d({"--web.config.file=" + web});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  const std::string ca = "--cacert " + pki.Path("ca.crt") + " ";
  auto cert = [&](const std::string& name) {
    return ca + "--cert " + pki.Path(name + ".crt") + " --key " + pki.Path(name + ".key") + " " +
           Https(d.port(), "/-/healthy");
  };
  auto good = [&] { return Curl(cert("client")); };
  EXPECT_EQ(good().status, 200);
  EXPECT_EQ(good().body, "Healthy\n");
  ExpectClientCertRefused(ca + Https(d.port(), "/-/healthy"), "handshake failure",
                          "certificate required", good);
  // Signed by a CA the system or the server key might know, but not client_ca_file.
  ExpectClientCertRefused(cert("rogue-client"), "unknown ca", "unknown ca", good);
}

TEST(SecurityE2e, OptionalClientCertificateIsVerifiedWhenGiven) {
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.output();
  std::string web = pki.WriteWebConfig(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "  client_ca_file: ca.crt\n  client_auth_type: VerifyClientCertIfGiven\n");
  DaemonProcess d({"--web.config.file=" + web});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  const std::string ca = "--cacert " + pki.Path("ca.crt") + " ";
  EXPECT_EQ(Curl(ca + Https(d.port(), "/-/healthy")).status, 200);
  EXPECT_EQ(Curl(ca + "--cert " + pki.Path("client.crt") + " --key " + pki.Path("client.key") +
                 " " + Https(d.port(), "/-/healthy"))
                .status,
            200);
  ExpectClientCertRefused(ca + "--cert " + pki.Path("rogue-client.crt") + " --key " +
                              pki.Path("rogue-client.key") + " " + Https(d.port(), "/-/healthy"),
                          "unknown ca", "unknown ca",
                          [&] { return Curl(ca + Https(d.port(), "/-/healthy")); });
}

TEST(SecurityE2e, TlsAndBasicAuthOverIpv6) {
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.output();
  std::string web = pki.WriteWebConfig(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
      "basic_auth_users:\n  prometheus: " + std::string(kSecretHash) + "\n");
  Child d({PortwardenBinary(), "--web.listen-address=[::1]:0", "--collect.interval=200ms",
           "--web.config.file=" + web});
  int port = 0;
  ASSERT_TRUE(PollUntil([&] { return (port = ListenPortFromLog(d.Stderr())) != 0; },
                        kFirstSample)) << d.Stderr();
  const std::string url = "--cacert " + pki.Path("ca.crt") + " https://[::1]:" +
                          std::to_string(port);
  CurlResult metrics;
  EXPECT_TRUE(PollUntil([&] {
    metrics = Curl("-g -u prometheus:secret " + url + "/metrics");
    return metrics.body.find("portwarden_listener_info") != std::string::npos;
  }, kFirstSample)) << metrics.body;
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(Curl("-g -u prometheus:wrong " + url + "/metrics").status, 401);
  EXPECT_EQ(Curl("-g " + url + "/-/healthy").status, 401);
}

TEST(SecurityE2e, BasicAuthAnswers401WithoutLeakingAnything) {
  Pki pki;  // only for its directory
  std::string web = pki.WriteWebConfig(
      std::string("basic_auth_users:\n  prometheus: ") + kSecretHash +
      "\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n"
      "    Content-Security-Policy: default-src 'none'\n");
  DaemonProcess d({"--web.config.file=" + web});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  const std::string url = "http://127.0.0.1:" + std::to_string(d.port());

  ASSERT_TRUE(PollUntil([&] {
    return Curl("-u prometheus:secret " + url + "/metrics").body.find("portwarden_listener_info") !=
           std::string::npos;
  }, kFirstSample));
  auto good = Curl("-u prometheus:secret " + url + "/api/v1/state");
  EXPECT_EQ(good.status, 200);
  EXPECT_NE(good.headers.find("X-Frame-Options: deny"), std::string::npos) << good.headers;
  EXPECT_NE(good.headers.find("Content-Security-Policy: default-src 'none'"), std::string::npos);

  // No header, a wrong password, an unknown user, a malformed header: one identical answer.
  std::string first_body;
  for (const std::string& who :
       {std::string(""), std::string("-u prometheus:wrong "), std::string("-u nobody:secret "),
        std::string("-H 'Authorization: Basic !!!' "), std::string("-u prometheus: ")}) {
    for (const char* path : {"/metrics", "/-/healthy", "/api/v1/state", "/nope", "/-/reload"}) {
      auto r = Curl(who + url + path);
      EXPECT_EQ(r.status, 401) << who << path;
      EXPECT_EQ(r.body, "Unauthorized\n") << who << path;
      EXPECT_NE(r.headers.find("WWW-Authenticate: Basic realm=\"portwarden\""), std::string::npos);
      EXPECT_NE(r.headers.find("X-Frame-Options: deny"), std::string::npos);
      EXPECT_EQ(r.headers.find("portwarden_"), std::string::npos);
    }
  }
  auto head = HttpRequest("127.0.0.1", d.port(), "HEAD", "/metrics");
  EXPECT_EQ(head.status, 401);
  EXPECT_EQ(head.body, "");
}

TEST(SecurityE2e, WebConfigErrorsExit1WithPosition) {
  Pki pki;
  ASSERT_TRUE(pki.ok()) << pki.output();
  struct Case {
    std::string yaml;
    std::string message;
  } cases[] = {
      {"basic_auth_users:\n  u: plaintext\n", ":2:6: basic_auth_users.u: expected a bcrypt hash"},
      {"tls_server_config:\n  cert_file: server.crt\n  key_file: missing.key\n",
       "tls_server_config.key_file " + pki.Path("missing.key")},
      {"tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
       "tls_server_config.key_file " + pki.Path("client.key") + ": error:05800074:x509 "
       "certificate routines::key values mismatch"},
  };
  for (const auto& c : cases) {
    std::string web = pki.WriteWebConfig(c.yaml);
    Child child({PortwardenBinary(), "--web.listen-address=127.0.0.1:0", "--web.config.file=" + web});
    // Start-up failures describe the port holder first: a full /proc scan, slow when busy.
    EXPECT_EQ(child.Wait(kFirstSample), 1) << c.yaml;
    EXPECT_NE(child.Stderr().find(c.message), std::string::npos) << child.Stderr();
  }
}

// A process name made to break things: a quote, a newline, braces, a backslash, an equals
// sign and bytes that are not UTF-8, 15 bytes (the kernel's comm limit).
const std::string kHostileName = "a\"b\n{c}\\=\xff\xfe\xc3(z";

TEST(SecurityE2e, HostileProcessNamesCannotBreakMetricsOrJson) {
  const int port = FreePort();
  ListenerProcess hostile(kHostileName, "127.0.0.1", port);
  ASSERT_TRUE(hostile.ok());
  DaemonProcess d;
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  const std::string pid_label = "pid=\"" + std::to_string(hostile.pid()) + "\"";
  HttpResponse metrics;
  ASSERT_TRUE(PollUntil([&] {
    metrics = d.Get("/metrics");
    return metrics.body.find(pid_label) != std::string::npos;
  }, kFirstSample)) << metrics.body;
  // Escaped per the exposition format; invalid UTF-8 replaced by U+FFFD.
  EXPECT_NE(metrics.body.find("process=\"a\\\"b\\n{c}\\\\=\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd(z\""),
            std::string::npos)
      << metrics.body;
  auto promtool = RunCommand("promtool check metrics", metrics.body);
  EXPECT_EQ(promtool.status, 0) << promtool.output;

  auto state = d.Get("/api/v1/state");
  ASSERT_EQ(state.status, 200);
  auto json = nlohmann::json::parse(state.body, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << state.body;
  bool found = false;
  for (const auto& l : json["data"]["listeners"]) {
    if (l["port"] != port) continue;
    found = true;
    const std::string name = l["owner"]["main"]["process"];
    EXPECT_EQ(name, "a\"b\n{c}\\=\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd(z") << l.dump();
  }
  EXPECT_TRUE(found) << json.dump(2);
  auto landing = d.Get("/");
  EXPECT_NE(landing.body.find("a&quot;b"), std::string::npos);  // HTML-escaped
  EXPECT_EQ(landing.body.find("a\"b"), std::string::npos);
}

// Least privilege: portwarden as nobody, with and without the two capabilities, sampling a
// listener held by this (root) test process.
class PrivilegeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to switch to nobody";
    // A copy nobody can execute whatever the build directory's permissions are.
    namespace fs = std::filesystem;
    dir_ = MakeTempDir();
    fs::create_directories(dir_ + "/bin");
    binary_ = dir_ + "/bin/portwarden";
    fs::copy_file(PortwardenBinary(), binary_);
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      fs::permissions(entry.path(), fs::perms::owner_all | fs::perms::group_read |
                                        fs::perms::group_exec | fs::perms::others_read |
                                        fs::perms::others_exec);
    }
    chmod(dir_.c_str(), 0755);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  /// Runs portwarden as nobody through setpriv, with `caps` ambient (may be empty), and
  /// returns its /metrics once it lists `port`.
  std::string MetricsAsNobody(const std::string& caps, int port) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                                     "--clear-groups"};
    if (!caps.empty()) {
      argv.push_back("--inh-caps=" + caps);
      argv.push_back("--ambient-caps=" + caps);
    }
    argv.insert(argv.end(), {binary_, "--web.listen-address=127.0.0.1:0", "--collect.interval=200ms"});
    Child child(argv);
    int web_port = 0;
    PollUntil([&] { return (web_port = ListenPortFromLog(child.Stderr())) != 0; }, kFirstSample);
    EXPECT_NE(web_port, 0) << child.Stderr();
    std::string body;
    PollUntil([&] {
      body = HttpGet("127.0.0.1", web_port, "/metrics").body;
      return body.find("port=\"" + std::to_string(port) + "\"") != std::string::npos;
    }, kFirstSample);
    return body;
  }

  std::string dir_;
  std::string binary_;
};

double Value(const std::string& body, const std::string& series) {
  std::smatch m;
  std::regex re("^" + std::regex_replace(series, std::regex(R"([{}\\.\[\]()*+?^$|])"), R"(\$&)") +
                " (\\S+)$", std::regex::multiline);
  return std::regex_search(body, m, re) ? std::stod(m[1]) : -1;
}

TEST_F(PrivilegeTest, WithoutCapabilitiesRootListenersAreUnattributed) {
  TcpListener mine;
  std::string body = MetricsAsNobody("", mine.port());
  const std::string port = "port=\"" + std::to_string(mine.port()) + "\"";
  EXPECT_NE(body.find("address=\"127.0.0.1\"," + port + ",pid=\"\",kind=\"unknown\""),
            std::string::npos)
      << body;
  EXPECT_GE(Value(body, "portwarden_listeners_unattributed{proto=\"tcp\"}"), 1) << body;
  EXPECT_EQ(Value(body, "portwarden_collector_success{collector=\"listeners\"}"), 1) << body;
}

TEST_F(PrivilegeTest, WithDacReadSearchAndSysPtraceRootListenersAreAttributed) {
  TcpListener mine;
  std::string body = MetricsAsNobody("+dac_read_search,+sys_ptrace", mine.port());
  const std::string own = "address=\"127.0.0.1\",port=\"" + std::to_string(mine.port()) +
                          "\",pid=\"" + std::to_string(getpid()) +
                          "\",kind=\"process\",process=\"security_test\",user=\"root\"";
  EXPECT_NE(body.find(own), std::string::npos) << body;
  EXPECT_EQ(Value(body, "portwarden_collector_success{collector=\"listeners\"}"), 1) << body;
}

}  // namespace
}  // namespace portwarden::testing
