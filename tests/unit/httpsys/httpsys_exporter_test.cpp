// HTTP.sys through the exporter: CollectSnapshot with a hand-written listener source and
// FakePlatform, then /metrics, the JSON and the status page. The seed scenario end to end:
// IIS (HTTP.sys) kept on 172.16.1.1:80 by the listen list, nginx on 10.0.0.5:80, then the
// list emptied in the registry.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "collectors/httpsys/registry.h"
#include "exporter/collect.h"
#include "exporter/httpsys_metrics.h"
#include "exporter/landing.h"
#include "exporter/metrics.h"
#include "tests/support/metrics_text.h"
#include "exporter/policy/policy.h"
#include "exporter/report.h"
#include "tests/unit/httpsys/fake_platform.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden {
namespace {

using httpsys::testing::FakePlatform;
using testing::ExpectLines;
using ::testing::HasSubstr;
using ::testing::Not;

/// A listener table fixed by the test.
class FixedSource : public ListenerSource {
 public:
  std::vector<OwnedSocket> sockets;
  Expected<OwnedSockets> Sample() override {
    return std::make_shared<const std::vector<OwnedSocket>>(sockets);
  }
  std::string Backend() const override { return "iphlpapi"; }
};

OwnedSocket Socket(std::string address, uint16_t port, uint32_t pid, std::string name,
                   OwnerKind kind) {
  OwnedSocket s;
  s.socket.proto = Proto::kTcp;
  s.socket.family = address.find(':') == std::string::npos ? Family::kIpv4 : Family::kIpv6;
  s.socket.address = std::move(address);
  s.socket.port = port;
  s.socket.pid = pid;
  s.kind = kind;
  Process holder;
  holder.pid = pid;
  holder.name = std::move(name);
  s.holders.push_back(std::make_shared<const Process>(std::move(holder)));
  return s;
}

/// The seed host after the fix and a restart: HTTP.sys binds only the listed 172.16.1.1, for
/// IIS (80) and WinRM (5985); nginx on 10.0.0.5:80; SMB (kernel, not HTTP.sys) on 445.
FixedSource SeedListeners() {
  FixedSource source;
  source.sockets = {Socket("172.16.1.1", 80, 4, "System", OwnerKind::kKernel),
                    Socket("172.16.1.1", 5985, 4, "System", OwnerKind::kKernel),
                    Socket("0.0.0.0", 445, 4, "System", OwnerKind::kKernel),
                    Socket("10.0.0.5", 80, 812, "nginx.exe", OwnerKind::kProcess)};
  return source;
}

FakePlatform SeedHost() {
  FakePlatform p;
  p.ip_listen = httpsys::testing::IpListenQuery({httpsys::testing::SockaddrV4({172, 16, 1, 1}, 0)});
  p.stores[httpsys::HttpConfigId::kUrlAclInfo] = {
      httpsys::testing::UrlAclSet(u"http://+:80/Temporary_Listen_Addresses/", u"D:(A;;GX;;;WD)")};
  p.stores[httpsys::HttpConfigId::kSslCertInfo] = {
      httpsys::testing::SslSet(httpsys::testing::SockaddrV4({172, 16, 1, 1}, 443))};
  p.registry[std::string(httpsys::kHttpParametersKey) + "\\ListenOnlyList"] = {
      "ListenOnlyList", httpsys::kRegMultiSz, httpsys::testing::MultiSz({"172.16.1.1"})};
  p.registry_keys[std::string(httpsys::kUrlAclInfoKey)] = {
      {"http://+:80/Temporary_Listen_Addresses/", httpsys::kRegSz,
       httpsys::testing::MultiSz({"D:(A;;GX;;;WD)"})}};
  p.netsh["http show servicestate view=requestq"] = {
      0, httpsys::testing::ReadWindowsFixture(
             "netsh-servicestate-requestq-synth-2-newformat-services.txt")};
  for (const char* family : {"ipv4", "ipv6"}) {
    for (const char* proto : {"tcp", "udp"}) {
      p.netsh["int " + std::string(family) + " show excludedportrange protocol=" + proto] = {
          0, httpsys::testing::ReadWindowsFixture("netsh-excludedportrange-synth-tcp-crlf.txt")};
    }
  }
  p.processes = {{3408, {"svchost.exe", {"W3SVC", "WAS"}}}, {1168, {"svchost.exe", {"WinRM"}}}};
  p.accounts = {{"S-1-1-0", "Everyone"}};
  p.not_after = {{"MY|" + std::string(httpsys::testing::kSha1Text), 1767225600}};
  return p;
}

Config SeedConfig() {
  auto config = ParseConfig(httpsys::testing::ReadWindowsFixture("../config/seed_windows.yml"),
                            "seed_windows.yml");
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? *config : Config{};
}

const Listener& At(const Snapshot& snap, const std::string& address, uint16_t port) {
  for (const Listener& l : snap.listeners->listeners) {
    if (l.address == address && l.port == port) return l;
  }
  ADD_FAILURE() << "no listener " << address << ":" << port;
  static const Listener kNone;
  return kNone;
}

std::string Metrics(const Snapshot& snap) { return testing::MetricsText(snap); }

TEST(HttpSysExporter, SeedScenarioFixed) {
  FixedSource source = SeedListeners();
  FakePlatform host = SeedHost();
  const Config config = SeedConfig();
  Snapshot snap = CollectSnapshot(source, &host, config);

  const Listener& iis = At(snap, "172.16.1.1", 80);
  EXPECT_EQ(iis.owner.kind, OwnerKind::kHttpSys);
  EXPECT_EQ(iis.owner.main().pid, 4u);
  EXPECT_EQ(iis.owner.main().service, "W3SVC,WAS");
  EXPECT_EQ(iis.owner.holders.size(), 4u) << "System, two w3wp.exe, WAS";
  EXPECT_EQ(At(snap, "172.16.1.1", 5985).owner.main().service, "WinRM");
  EXPECT_EQ(At(snap, "0.0.0.0", 445).owner.kind, OwnerKind::kKernel);
  EXPECT_EQ(snap.httpsys.attributed_listeners, 2u);

  // With HTTP.sys attributed, the "iis" expectation (kind: http.sys) holds.
  policy::Evaluation evaluation =
      policy::Evaluate(snap.listeners->listeners, nullptr, config.expectations);
  for (const auto& e : evaluation.expectations) EXPECT_TRUE(e.satisfied) << e.name;

  const std::string text = Metrics(snap);
  ExpectLines(
      text, {
                "portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"172.16.1.1\","
                "port=\"80\",pid=\"4\",kind=\"http.sys\",process=\"System\",user=\"\","
                "service=\"W3SVC,WAS\",netns=\"\",netns_name=\"\",container=\"\",pod=\"\","
                "socket_unit=\"\",supervisor=\"\"} 1",
                "portwarden_httpsys_iplisten_info{source=\"api\",address=\"172.16.1.1\"} 1",
                "portwarden_httpsys_iplisten_info{source=\"registry\",address=\"172.16.1.1\"} 1",
                "portwarden_httpsys_iplisten_entries{source=\"registry\"} 1",
                "portwarden_httpsys_iplisten_pending_restart 0",
                "portwarden_httpsys_urlacl_info{url=\"http://+:80/Temporary_Listen_Addresses/\","
                "principal=\"Everyone\",listen=\"true\",delegate=\"false\"} 1",
                "portwarden_httpsys_sslcert_info{kind=\"ipport\",endpoint=\"172.16.1.1:443\","
                "cert_hash=\"0102030405060708090a0b0c0d0e0f1011121314\","
                "app_id=\"{12345678-1234-5678-9abc-def012345678}\",store=\"MY\"} 1",
                "portwarden_httpsys_sslcert_not_after_seconds{endpoint=\"172.16.1.1:443\","
                "cert_hash=\"0102030405060708090a0b0c0d0e0f1011121314\"} 1767225600",
                "portwarden_httpsys_request_queue_info{queue=\"DefaultAppPool\",pid=\"5120\","
                "process=\"w3wp.exe\",service=\"\"} 1",
                "portwarden_httpsys_request_queue_info{queue=\"unnamed:1168\",pid=\"1168\","
                "process=\"svchost.exe\",service=\"WinRM\"} 1",
                "portwarden_httpsys_request_queue_urls{queue=\"DefaultAppPool\"} 2",
                "portwarden_excluded_port_range_info{proto=\"tcp\",family=\"ipv6\",start=\"50000\","
                "end=\"50059\"} 1",
                "portwarden_collector_success{collector=\"httpsys_requestq\"} 1",
                "portwarden_collector_success{collector=\"httpsys_excludedportrange\"} 1",
            });
  EXPECT_THAT(text, Not(HasSubstr("portwarden_httpsys_latent_conflict{")));
  EXPECT_THAT(text, Not(HasSubstr("portwarden_httpsys_urlacl_unexpected{")));
}

TEST(HttpSysExporter, SeedScenarioDecayed) {
  // Someone emptied ListenOnlyList (a script, a GPO, `netsh http delete iplisten` with the
  // service stopped): nothing breaks yet, HTTP.sys still binds 172.16.1.1 only.
  FixedSource source = SeedListeners();
  FakePlatform host = SeedHost();
  host.registry.clear();
  Snapshot snap = CollectSnapshot(source, &host, SeedConfig());

  ASSERT_TRUE(snap.httpsys.pending_restart);
  EXPECT_TRUE(snap.httpsys.pending_restart->pending);
  ExpectLines(
      Metrics(snap),
      {
          "portwarden_httpsys_iplisten_pending_restart 1",
          "portwarden_httpsys_iplisten_entries{source=\"registry\"} 0",
          "portwarden_httpsys_latent_conflict{address=\"10.0.0.5\",port=\"80\",rule=\"nginx\"} 1",
          "portwarden_httpsys_urlacl_unexpected{url=\"http://+:80/Temporary_Listen_Addresses/\"} 1",
      });
  nlohmann::json json = SnapshotJson(snap);
  const auto& conflict = json["httpsys"]["latent"]["conflicts"][0];
  EXPECT_EQ(conflict["bind"], "0.0.0.0");
  EXPECT_EQ(conflict["urls"][0], "HTTP://*:80/");
  std::string page = LandingPage(&snap, "/metrics");
  EXPECT_THAT(page, HasSubstr("<h2>HTTP.sys</h2>"));
  EXPECT_THAT(page, HasSubstr("The listen list waits for a restart of HTTP.sys"));
  EXPECT_THAT(page, HasSubstr("0.0.0.0:80 covers 10.0.0.5:80 of rule nginx"));
  EXPECT_THAT(page, HasSubstr("<td>MY</td><td>2026-01-01</td>")) << "certificate expiry, UTC";
}

TEST(HttpSysExporter, FailingNetshLeavesTheRestPublished) {
  FixedSource source = SeedListeners();
  FakePlatform host = SeedHost();
  host.netsh.clear();
  Snapshot snap = CollectSnapshot(source, &host, SeedConfig());

  EXPECT_EQ(At(snap, "172.16.1.1", 80).owner.kind, OwnerKind::kKernel)
      << "no request queues, no attribution";
  ASSERT_TRUE(snap.httpsys.pending_restart) << "the two listen lists still compare";
  EXPECT_FALSE(snap.httpsys.pending_restart->pending);
  const std::string text = Metrics(snap);
  ExpectLines(text, {
                        "portwarden_collector_success{collector=\"listeners\"} 1",
                        "portwarden_collector_success{collector=\"httpsys_requestq\"} 0",
                        "portwarden_collector_success{collector=\"httpsys_excludedportrange\"} 0",
                        "portwarden_collector_success{collector=\"httpsys_iplisten\"} 1",
                        "portwarden_collector_success{collector=\"httpsys_urlacl\"} 1",
                        "portwarden_collector_success{collector=\"httpsys_sslcert\"} 1",
                        "portwarden_collector_success{collector=\"httpsys_registry\"} 1",
                        "portwarden_httpsys_iplisten_info{source=\"api\",address=\"172.16.1.1\"} 1",
                    });
  EXPECT_THAT(text, HasSubstr("# TYPE portwarden_httpsys_request_queue_info gauge"));
  EXPECT_THAT(text, Not(HasSubstr("portwarden_httpsys_request_queue_info{")));
  EXPECT_TRUE(SnapshotJson(snap)["httpsys"]["request_queues"].is_null());
}

TEST(HttpSysExporter, FailingListenerCollectorSkipsAttribution) {
  class Broken : public ListenerSource {
    Expected<OwnedSockets> Sample() override {
      return Error{"GetExtendedTcpTable failed: 0x00000005"};
    }
    std::string Backend() const override { return "iphlpapi"; }
  } source;
  FakePlatform host = SeedHost();
  Snapshot snap = CollectSnapshot(source, &host, SeedConfig());
  EXPECT_EQ(snap.httpsys.attributed_listeners, 0u);
  ASSERT_TRUE(snap.httpsys.queues);
  ASSERT_TRUE(snap.httpsys.latent) << "the latent check needs no listener";
  EXPECT_TRUE(snap.httpsys.latent->conflicts.empty());
}

TEST(HttpSysExporter, EverySeriesIsUnique) {
  FixedSource source = SeedListeners();
  FakePlatform host = SeedHost();
  // Duplicates the host can produce: one address twice on the list, one account twice.
  host.ip_listen =
      httpsys::testing::IpListenQuery({httpsys::testing::SockaddrV4({172, 16, 1, 1}, 0),
                                       httpsys::testing::SockaddrV4({172, 16, 1, 1}, 80)});
  host.stores[httpsys::HttpConfigId::kUrlAclInfo] = {
      httpsys::testing::UrlAclSet(u"http://+:80/x/", u"D:(A;;GX;;;WD)(A;;GX;;;S-1-1-0)")};
  Snapshot snap = CollectSnapshot(source, &host, SeedConfig());
  std::istringstream lines(Metrics(snap));
  std::set<std::string> series;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(series.insert(line.substr(0, line.rfind(' '))).second) << "repeated: " << line;
  }
}

TEST(HttpSysExporter, PlatformCollectorList) {
  FixedSource source = SeedListeners();
  Snapshot snap = CollectSnapshot(source, Config{});
  std::set<std::string> names;
  for (const auto& c : snap.collectors) names.insert(c.name);
#ifdef _WIN32
  EXPECT_TRUE(snap.httpsys.collected);
  for (auto name : {"httpsys_iplisten", "httpsys_urlacl", "httpsys_sslcert", "httpsys_registry",
                    "httpsys_requestq", "httpsys_excludedportrange"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
#else
  // No HTTP.sys on Linux: not in the list, no series, no JSON.
  EXPECT_EQ(names, (std::set<std::string>{"listeners"}));
  EXPECT_FALSE(snap.httpsys.collected);
  EXPECT_THAT(Metrics(snap), Not(HasSubstr("httpsys")));
  EXPECT_THAT(Metrics(snap), Not(HasSubstr("excluded_port_range")));
  EXPECT_TRUE(SnapshotJson(snap)["httpsys"].is_null());
  EXPECT_THAT(LandingPage(&snap, "/metrics"), Not(HasSubstr("HTTP.sys")));
#endif
}

TEST(HttpSysClaims, WhoClaimsWhat) {
  auto config = ParseConfig(R"(
expect:
  - name: nginx
    listen: [10.0.0.5:80, "[2001:db8::5]:80", 10.0.0.5:53/udp]
    owner: {process: nginx}
  - name: iis
    listen: 172.16.1.1:80
    owner: {kind: http.sys}
  - name: anyone
    listen: "*:8080"
    owner: {}
  - name: system-by-name
    listen: 10.0.0.9:80
    owner: {process: System}
  - name: exclusive
    listen: "*:80"
    exclusive: true
  - name: api
    listen: "*:9000"
    owner: {service: ApiSvc}
)",
                            "claims.yml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  std::vector<std::string> got;
  for (const auto& c : HttpSysClaims(config->expectations)) {
    got.push_back(c.rule + " " + (c.address.empty() ? "*" : c.address) + ":" +
                  std::to_string(c.port));
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{"nginx 10.0.0.5:80", "nginx 2001:db8::5:80", "api *:9000"}));
}

TEST(QueueLabels, NamesAndUnnamedQueues) {
  auto queue = [](std::string name, std::vector<uint32_t> pids, std::optional<uint32_t> ctl) {
    httpsys::RequestQueue q;
    q.name = std::move(name);
    for (uint32_t pid : pids) q.processes.push_back({pid, "", {}});
    q.controller_pid = ctl;
    return q;
  };
  EXPECT_EQ(
      QueueLabels({queue("DefaultAppPool", {}, 3408), queue("", {1168, 900}, {}), queue("", {}, {}),
                   queue("", {900}, {}), queue("", {}, 77), queue("", {}, {})}),
      (std::vector<std::string>{"DefaultAppPool", "unnamed:900", "unnamed", "unnamed:900#2",
                                "unnamed:77", "unnamed#2"}));
}

}  // namespace
}  // namespace portwarden
