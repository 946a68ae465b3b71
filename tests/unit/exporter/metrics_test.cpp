#include "exporter/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "tests/support/metrics_text.h"

namespace portwarden {
namespace {

Snapshot Sample(const std::string& process = "nginx") {
  Snapshot snap;
  snap.timestamp = 1700000000.5;
  snap.listener_backend = "netlink";
  Listener l;
  l.proto = Proto::kTcp;
  l.address = "0.0.0.0";
  l.port = 80;
  l.sockets = 4;
  l.owner.kind = OwnerKind::kProcess;
  l.owner.holders = {
      std::make_shared<const Process>(
          Process{812, 1, process, "/usr/sbin/nginx", "root", "nginx.service", "", "", "", {}}),
      std::make_shared<const Process>(
          Process{813, 812, "nginx", "/usr/sbin/nginx", "www-data", "", "", "", "", {}})};
  ListenerSet set;
  set.listeners.push_back(l);
  Listener u;
  u.proto = Proto::kUdp;
  u.family = Family::kIpv6;
  u.address = "::";
  u.port = 5353;
  set.listeners.push_back(u);
  set.tcp = 1;
  set.udp = 1;
  set.unattributed_udp = 1;
  snap.listeners = std::make_shared<const ListenerSet>(std::move(set));
  snap.collectors.push_back({"listeners", true, 0.25, ""});
  return snap;
}

TEST(SnapshotMetrics, ExposesListenersAndHealth) {
  Snapshot snap = Sample();
  std::string text = testing::MetricsText(snap);
  for (const char* line : {
           "portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"0.0.0.0\",port=\"80\","
           "pid=\"812\",kind=\"process\",process=\"nginx\",user=\"root\","
           "service=\"nginx.service\",netns=\"\",netns_name=\"\",container=\"\",pod=\"\",socket_unit=\"\","
           "supervisor=\"\"} 1",
           "portwarden_listener_info{proto=\"udp\",family=\"ipv6\",address=\"::\",port=\"5353\","
           "pid=\"\",kind=\"unknown\",process=\"\",user=\"\",service=\"\",netns=\"\",netns_name=\"\","
           "container=\"\",pod=\"\",socket_unit=\"\",supervisor=\"\"} 1",
           "portwarden_listener_sockets{proto=\"tcp\",family=\"ipv4\",address=\"0.0.0.0\","
           "port=\"80\",pid=\"812\",netns=\"\"} 4",
           "portwarden_listener_processes{proto=\"tcp\",family=\"ipv4\",address=\"0.0.0.0\","
           "port=\"80\",pid=\"812\",netns=\"\"} 2",
           "portwarden_listeners{proto=\"udp\"} 1",
           "portwarden_listeners_unattributed{proto=\"udp\"} 1",
           "portwarden_listeners_dropped 0",
           "portwarden_collector_success{collector=\"listeners\"} 1",
           "portwarden_collector_duration_seconds{collector=\"listeners\"} 0.25",
           "portwarden_last_collection_timestamp_seconds 1700000000.5",
           "# HELP portwarden_listener_info Listening socket and its main owner, as sampled",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n---\n" << text;
  }
}

// A listener in a container's namespace, handed over by socket activation: namespace,
// container, pod, socket unit and supervisor are labels of its info series; the same port
// in another namespace is not a shared port.
TEST(SnapshotMetrics, LabelsNamespaceContainerAndActivation) {
  auto supervisor = std::make_shared<const Process>(
      Process{1, 0, "systemd", "/usr/lib/systemd/systemd", "root", "", "", "", "", {}});
  auto serving = std::make_shared<const Process>(Process{
      900, 1, "sshd", "/usr/sbin/sshd", "root", "ssh.service", "web-1", "docker",
      "0b9c5e2a-1d6f-4c8e-9a3b-7f2d4e6a8c10", {"sshd.socket"}});
  ListenerSet set;
  Listener l;
  l.address = "0.0.0.0";
  l.port = 22;
  l.netns = 4026532300;
  l.netns_name = "blue";
  l.owner.socket_unit = "sshd.socket";
  l.owner.kind = OwnerKind::kProcess;
  l.owner.holders = {serving, supervisor};
  l.owner.supervisor = supervisor;
  set.listeners.push_back(l);
  Listener host = l;
  host.netns = 4026531833;
  host.netns_name = "host";
  set.listeners.push_back(host);
  std::string text = ListenerMetricsText(set);
  for (const char* line : {
           "portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"0.0.0.0\",port=\"22\","
           "pid=\"900\",kind=\"process\",process=\"sshd\",user=\"root\","
           "service=\"ssh.service\",netns=\"4026532300\",netns_name=\"blue\",container=\"web-1\","
           "pod=\"0b9c5e2a-1d6f-4c8e-9a3b-7f2d4e6a8c10\",socket_unit=\"sshd.socket\","
           "supervisor=\"systemd\"} 1",
           "portwarden_listener_sockets{proto=\"tcp\",family=\"ipv4\",address=\"0.0.0.0\","
           "port=\"22\",pid=\"900\",netns=\"4026531833\"} 1",
           "portwarden_port_owners{proto=\"tcp\",port=\"22\",netns=\"4026532300\"} 1",
           "portwarden_port_owners{proto=\"tcp\",port=\"22\",netns=\"4026531833\"} 1",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n---\n" << text;
  }
}

// A port published by DNAT alone: a listener of kind nat, and where it forwards.
TEST(SnapshotMetrics, NatForwardIsAListenerOfKindNatWithItsTarget) {
  ListenerSet set;
  Listener l;
  l.address = "0.0.0.0";
  l.port = 8080;
  l.netns = 4026531833;
  l.netns_name = "host";
  l.owner.kind = OwnerKind::kNat;
  l.owner.forwards_to = "10.88.0.5:80";
  l.owner.holders = {std::make_shared<const Process>(
      Process{5120, 5100, "httpd", "/usr/sbin/httpd", "root", "", "web-1", "podman", "", {}})};
  set.listeners.push_back(l);
  std::string text = ListenerMetricsText(set);
  testing::ExpectLines(text, {
           "portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"0.0.0.0\",port=\"8080\","
           "pid=\"5120\",kind=\"nat\",process=\"httpd\",user=\"root\",service=\"\",netns=\"4026531833\","
           "netns_name=\"host\",container=\"web-1\",pod=\"\",socket_unit=\"\",supervisor=\"\"} 1",
           "portwarden_nat_forward_info{proto=\"tcp\",family=\"ipv4\",address=\"0.0.0.0\",port=\"8080\","
           "pid=\"5120\",netns=\"4026531833\",forwards_to=\"10.88.0.5:80\"} 1",
  });
}

// A socket systemd holds for a .socket unit: service is the service it activates.
TEST(SnapshotMetrics, ManagerHeldSocketLabelsTheServiceItActivates) {
  ListenerSet set;
  Listener l;
  l.address = "127.0.0.1";
  l.port = 631;
  l.owner.kind = OwnerKind::kProcess;
  l.owner.holders = {std::make_shared<const Process>(
      Process{1, 0, "systemd", "/usr/lib/systemd/systemd", "root", "", "", "", "", {}})};
  l.owner.socket_unit = "cups.socket";
  l.owner.socket_service = "cups.service";
  set.listeners.push_back(l);
  const std::string line =
      "portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"127.0.0.1\",port=\"631\","
      "pid=\"1\",kind=\"process\",process=\"systemd\",user=\"root\",service=\"cups.service\","
      "netns=\"\",netns_name=\"\",container=\"\",pod=\"\",socket_unit=\"cups.socket\","
      "supervisor=\"\"} 1";
  testing::ExpectLines(ListenerMetricsText(set), {line});
}

TEST(SnapshotMetrics, PolicyFamilies) {
  Snapshot snap = Sample();
  policy::Finding f;
  f.kind = policy::FindingKind::kBlocked;
  f.rule = "public-web";
  f.address = "10.0.0.5";
  f.port = 80;
  f.owner_identity = "http.sys:System";
  f.key = "k1";
  snap.policy.active["k1"] = {f, {}, {}, 0};
  snap.policy.evaluation.expectations = {{"public-web", false}};
  snap.policy.owner_changes[{Proto::kTcp, 80}] = 3;
  std::string text = testing::MetricsText(snap);
  for (const char* line : {
           "portwarden_finding{kind=\"blocked\",rule=\"public-web\",proto=\"tcp\","
           "address=\"10.0.0.5\",port=\"80\",owner=\"http.sys:System\"} 1",
           "portwarden_findings{kind=\"blocked\"} 1",
           "portwarden_findings{kind=\"missing\"} 0",
           "portwarden_expectation_satisfied{rule=\"public-web\"} 0",
           "portwarden_port_owners{proto=\"tcp\",port=\"80\",netns=\"\"} 1",
           "# TYPE portwarden_owner_changes_total counter",
           "portwarden_owner_changes_total{proto=\"tcp\",port=\"80\"} 3",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n---\n" << text;
  }
}

// A wildcard bind conflicting with two owners of one address: two findings (their keys name
// the other owners) but one series; a duplicate series would make Prometheus drop the scrape.
TEST(SnapshotMetrics, FindingsDifferingOnlyOutsideTheLabelsAreOneSeries) {
  Snapshot snap = Sample();
  policy::Finding f;
  f.kind = policy::FindingKind::kConflict;
  f.address = "10.0.0.5";
  f.port = 80;
  f.owner_identity = "process=nginx";
  for (const char* key : {"conflict/a", "conflict/b"}) {
    f.key = key;
    f.other = key;
    snap.policy.active[key] = {f, {}, {}, 0};
  }
  std::string text = testing::MetricsText(snap);
  const std::string series = "portwarden_finding{kind=\"conflict\"";
  size_t first = text.find(series);
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find(series, first + 1), std::string::npos) << text;
  EXPECT_NE(text.find("portwarden_findings{kind=\"conflict\"} 2"), std::string::npos) << text;
}

TEST(SnapshotMetrics, BeforeFirstCollectionOnlyBuildInfo) {
  auto families = SnapshotMetrics(nullptr, {true, 5});
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].name, "portwarden_build_info");
  EXPECT_EQ(families[2].name, "portwarden_config_last_reload_success_timestamp_seconds");
  EXPECT_EQ(families[2].metric[0].gauge.value, 5);
}

TEST(SnapshotMetrics, HostileProcessNameCannotBreakExposition) {
  Snapshot snap = Sample("evil\"}\nportwarden_up 1 \\");
  std::string text = testing::MetricsText(snap);
  EXPECT_NE(text.find("process=\"evil\\\"}\\nportwarden_up 1 \\\\\""), std::string::npos) << text;
  EXPECT_EQ(text.find("\nportwarden_up 1"), std::string::npos);
}

// The listener families are written by hand: they must read exactly as prometheus-cpp's
// serializer writes the same series (escapes, label order, family headers).
TEST(ListenerMetricsText, IsWhatPrometheusCppWritesForTheSameSeries) {
  Snapshot snap = Sample("ng\"in\\x\nname \xC3\xA9");  // quote, backslash, newline, UTF-8
  const ListenerSet& set = *snap.listeners;
  using prometheus::ClientMetric;
  using prometheus::MetricFamily;
  auto gauge = [](std::string name, std::string help) {
    return MetricFamily{std::move(name), std::move(help), prometheus::MetricType::Gauge, {}};
  };
  MetricFamily info = gauge("portwarden_listener_info",
                            "Listening socket and its main owner, as sampled by the last "
                            "collection cycle; value is always 1.");
  MetricFamily nat = gauge("portwarden_nat_forward_info",
                           "Port published by a destination NAT rule (Linux nf_tables; the "
                           "listener of kind nat, which has no socket) and the address:port it "
                           "forwards to; value is always 1.");
  MetricFamily sockets = gauge("portwarden_listener_sockets",
                               "Sockets behind one listener (SO_REUSEPORT groups count each "
                               "socket), as sampled by the last collection cycle.");
  MetricFamily processes = gauge("portwarden_listener_processes",
                                 "Processes holding the listener's socket(s) (e.g. a master and "
                                 "its workers), as sampled by the last collection cycle.");
  MetricFamily owners = gauge("portwarden_port_owners",
                              "Distinct owners holding a port (any address) in one network "
                              "namespace, as sampled by the last collection cycle; more than 1 "
                              "means a shared port.");
  auto add = [](MetricFamily& family, std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    family.metric.push_back(std::move(m));
  };
  for (const Listener& l : set.listeners) {
    const bool known = l.owner.kind != OwnerKind::kUnknown;
    std::vector<ClientMetric::Label> id = {
        {"proto", std::string(ToString(l.proto))}, {"family", std::string(ToString(l.family))},
        {"address", l.address}, {"port", std::to_string(l.port)},
        {"pid", known ? std::to_string(l.owner.main().pid) : ""}};
    auto labels = id;
    labels.push_back({"kind", std::string(ToString(l.owner.kind))});
    labels.push_back({"process", l.owner.main().name});
    labels.push_back({"user", l.owner.main().user});
    labels.push_back({"service", l.owner.main().service});
    id.push_back({"netns", ""});
    for (const char* empty : {"netns", "netns_name", "container", "pod", "socket_unit", "supervisor"}) {
      labels.push_back({empty, ""});
    }
    add(info, labels, 1);
    add(sockets, id, l.sockets);
    add(processes, id, static_cast<double>(l.owner.holders.size()));
  }
  add(owners, {{"proto", "tcp"}, {"port", "80"}, {"netns", ""}}, 1);  // by proto, then port
  add(owners, {{"proto", "udp"}, {"port", "5353"}, {"netns", ""}}, 1);
  EXPECT_EQ(ListenerMetricsText(set), RenderText({info, nat, sockets, processes, owners}));
}

TEST(ListenerMetricsText, InvalidUtf8BecomesReplacementCharacters) {
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
  Snapshot snap = Sample("a\x80" "b\xE2\x82" "c\xC0\xAF" "d\xED\xA0\x80" "e");
  const std::string text = ListenerMetricsText(*snap.listeners);
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_NE(text.find("process=\"a" + r + "b" + r + r + "c" + r + r + "d" + r + r + r + "e\""),
            std::string::npos)
      << text;
}

TEST(ListenerMetricsText, NoListenersStillNameTheFamilies) {
  const std::string text = ListenerMetricsText(ListenerSet{});
  for (const char* family : {"portwarden_listener_info", "portwarden_listener_sockets",
                             "portwarden_listener_processes", "portwarden_port_owners"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " gauge\n"), std::string::npos)
        << family;
  }
  EXPECT_EQ(text.find("{"), std::string::npos) << text;
}

}  // namespace
}  // namespace portwarden
