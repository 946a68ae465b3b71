#include "exporter/policy/policy.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

namespace portwarden::policy {
namespace {

Owner ProcessOwner(std::string name, uint32_t pid, std::string service = "", std::string exe = "") {
  Owner owner;
  owner.kind = OwnerKind::kProcess;
  owner.holders = {std::make_shared<const Process>(Process{.pid = pid,
                                                           .ppid = 1,
                                                           .name = std::move(name),
                                                           .exe = std::move(exe),
                                                           .user = "root",
                                                           .service = std::move(service),
                                                           .container = {},
                                                           .container_runtime = {},
                                                           .pod = {},
                                                           .listen_fds = {}})};
  return owner;
}

Owner HttpSys() {
  Owner owner;
  owner.kind = OwnerKind::kHttpSys;
  owner.holders = {std::make_shared<const Process>(Process{4, 0, "System", "", "", "", "", "", "", {}})};
  return owner;
}

Owner Kernel() {
  Owner owner = HttpSys();
  owner.kind = OwnerKind::kKernel;
  return owner;
}

Owner Unknown() { return Owner{}; }

Listener Listen(std::string address, uint16_t port, Owner owner, Proto proto = Proto::kTcp,
                bool v6only = false) {
  Listener listener;
  listener.proto = proto;
  listener.family = address.find(':') == std::string::npos ? Family::kIpv4 : Family::kIpv6;
  listener.address = std::move(address);
  listener.port = port;
  listener.v6only = v6only;
  listener.owner = std::move(owner);
  return listener;
}

std::vector<Expectation> Expect(const std::string& yaml) {
  const auto loaded = LoadExpectations(YAML::Load(yaml), "test.yml");
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  return loaded.ok() ? *loaded : std::vector<Expectation>{};
}

/// "kind rule address:port/proto owner", the part of a finding the table cases compare.
std::vector<std::string> Summary(const Evaluation& evaluation) {
  std::vector<std::string> lines;
  for (const Finding& f : evaluation.findings) {
    const ListenSpec where{f.proto, f.address == "*" ? "" : f.address, f.port};
    lines.push_back(std::string(ToString(f.kind)) + " " + (f.rule.empty() ? "-" : f.rule) + " " +
                    ToString(where) + " " + (f.owner.empty() ? "-" : f.owner));
  }
  return lines;
}

constexpr const char* kNginxOn10005 =
    "- {name: web, listen: '10.0.0.5:80', owner: {process: nginx}}";

struct Case {
  const char* what;
  std::string expectations;
  std::vector<Listener> current;
  std::vector<std::string> findings;
};

TEST(Evaluate, FindingKinds) {
  const Case cases[] = {
      {"expected listener present",
       kNginxOn10005,
       {Listen("10.0.0.5", 80, ProcessOwner("nginx", 812))},
       {}},
      {"expected owner serves the address through its own wildcard",
       kNginxOn10005,
       {Listen("0.0.0.0", 80, ProcessOwner("nginx", 812))},
       {}},
      {"missing", kNginxOn10005, {}, {"missing web 10.0.0.5:80/tcp -"}},
      {"missing: other port, other proto and other address do not count",
       kNginxOn10005,
       {Listen("10.0.0.5", 81, ProcessOwner("apache2", 9)),
        Listen("10.0.0.5", 80, ProcessOwner("named", 53), Proto::kUdp),
        Listen("10.0.0.6", 80, ProcessOwner("apache2", 9))},
       {"missing web 10.0.0.5:80/tcp -"}},
      {"wrong_owner",
       kNginxOn10005,
       {Listen("10.0.0.5", 80, ProcessOwner("apache2", 9))},
       {"wrong_owner web 10.0.0.5:80/tcp apache2 (pid 9)"}},
      {"wrong_owner on an any-address entry",
       "- {name: web, listen: '*:80', owner: {process: nginx}}",
       {Listen("10.0.0.6", 80, ProcessOwner("apache2", 9))},
       {"wrong_owner web *:80/tcp apache2 (pid 9)"}},
      {"wrong_owner by an owner that could not be read",
       kNginxOn10005,
       {Listen("10.0.0.5", 80, Unknown())},
       {"wrong_owner web 10.0.0.5:80/tcp unknown"}},
      {"blocked by an IPv4 wildcard",
       kNginxOn10005,
       {Listen("0.0.0.0", 80, ProcessOwner("apache2", 9))},
       {"blocked web 10.0.0.5:80/tcp apache2 (pid 9)"}},
      {"blocked by a dual-stack IPv6 wildcard",
       kNginxOn10005,
       {Listen("::", 80, ProcessOwner("java", 77))},
       {"blocked web 10.0.0.5:80/tcp java (pid 77)"}},
      {"a v6only wildcard does not cover IPv4",
       kNginxOn10005,
       {Listen("::", 80, ProcessOwner("java", 77), Proto::kTcp, true)},
       {"missing web 10.0.0.5:80/tcp -"}},
      {"an IPv4 wildcard does not cover IPv6",
       "- {name: web6, listen: '[2001:db8::5]:443', owner: {process: nginx}}",
       {Listen("0.0.0.0", 443, ProcessOwner("apache2", 9))},
       {"missing web6 [2001:db8::5]:443/tcp -"}},
      {"an IPv6 wildcard covers IPv6 even when v6only",
       "- {name: web6, listen: '[2001:db8::5]:443', owner: {process: nginx}}",
       {Listen("::", 443, ProcessOwner("apache2", 9), Proto::kTcp, true)},
       {"blocked web6 [2001:db8::5]:443/tcp apache2 (pid 9)"}},
      {"IPv6 spellings compare canonically",
       "- {name: web6, listen: '[2001:DB8:0::5]:443', owner: {process: nginx}}",
       {Listen("2001:0db8::0005", 443, ProcessOwner("nginx", 812))},
       {}},
      {"exact holder wins over a covering one: wrong_owner, not blocked",
       kNginxOn10005,
       {Listen("0.0.0.0", 80, HttpSys()), Listen("10.0.0.5", 80, ProcessOwner("apache2", 9))},
       {"conflict - 0.0.0.0:80/tcp http.sys (System, pid 4)",
        "wrong_owner web 10.0.0.5:80/tcp apache2 (pid 9)"}},
      {"conflict: wildcard against specific, no expectation",
       "",
       {Listen("0.0.0.0", 8080, ProcessOwner("nginx", 812)),
        Listen("10.0.0.5", 8080, ProcessOwner("apache2", 9))},
       {"conflict - 0.0.0.0:8080/tcp nginx (pid 812)"}},
      {"conflict: same address through SO_REUSEPORT",
       "",
       {Listen("0.0.0.0", 9000, ProcessOwner("envoy", 20)),
        Listen("0.0.0.0", 9000, ProcessOwner("haproxy", 30))},
       {"conflict - 0.0.0.0:9000/tcp envoy (pid 20)"}},
      {"conflict: dual-stack :: against 0.0.0.0",
       "",
       {Listen("0.0.0.0", 9000, ProcessOwner("envoy", 20)),
        Listen("::", 9000, ProcessOwner("haproxy", 30))},
       {"conflict - 0.0.0.0:9000/tcp envoy (pid 20)"}},
      {"no conflict: v6only :: beside 0.0.0.0",
       "",
       {Listen("0.0.0.0", 9000, ProcessOwner("envoy", 20)),
        Listen("::", 9000, ProcessOwner("haproxy", 30), Proto::kTcp, true)},
       {}},
      {"no conflict: one owner, several processes (nginx master and workers)",
       "",
       {Listen("0.0.0.0", 80, ProcessOwner("nginx", 812)),
        Listen("0.0.0.0", 80, ProcessOwner("nginx", 813))},
       {}},
      {"no conflict: distinct specific addresses, or tcp beside udp",
       "",
       {Listen("10.0.0.5", 53, ProcessOwner("named", 53)),
        Listen("10.0.0.6", 53, ProcessOwner("unbound", 54)),
        Listen("10.0.0.5", 53, ProcessOwner("dnsmasq", 55), Proto::kUdp)},
       {}},
      {"unexpected on an exclusive port",
       "- {name: web, listen: '10.0.0.5:80', owner: {process: nginx}, exclusive: true}",
       {Listen("10.0.0.5", 80, ProcessOwner("nginx", 812)),
        Listen("10.0.0.6", 80, ProcessOwner("apache2", 9))},
       {"unexpected web 10.0.0.6:80/tcp apache2 (pid 9)"}},
      {"unexpected: a wildcard where a specific address is allowed",
       "- {name: web, listen: '10.0.0.5:80', owner: {process: nginx}, exclusive: true}",
       {Listen("0.0.0.0", 80, ProcessOwner("nginx", 812))},
       {"unexpected web 0.0.0.0:80/tcp nginx (pid 812)"}},
      {"exclusive-only entry: allowed by another entry, the rest unexpected",
       "- {name: lockdown, listen: '*:22', exclusive: true}\n"
       "- {name: ssh, listen: '*:22', owner: {process: sshd}}",
       {Listen("0.0.0.0", 22, ProcessOwner("sshd", 600)),
        Listen("::", 22, ProcessOwner("dropbear", 700), Proto::kTcp, true)},
       {"unexpected lockdown [::]:22/tcp dropbear (pid 700)"}},
      {"exclusive is per proto: udp on the same port is not concerned",
       "- {name: web, listen: '10.0.0.5:80', owner: {process: nginx}, exclusive: true}",
       {Listen("10.0.0.5", 80, ProcessOwner("nginx", 812)),
        Listen("0.0.0.0", 80, ProcessOwner("quic", 5), Proto::kUdp)},
       {}},
      {"owner: {} accepts anyone but requires someone",
       "- {name: dns, listen: '*:53/udp', owner: {}}\n"
       "- {name: ntp, listen: '*:123/udp', owner: {}}",
       {Listen("127.0.0.53", 53, ProcessOwner("systemd-resolve", 300), Proto::kUdp)},
       {"missing ntp *:123/udp -"}},
  };
  for (const Case& c : cases) {
    const Evaluation evaluation = Evaluate(c.current, nullptr, Expect(c.expectations));
    EXPECT_EQ(Summary(evaluation), c.findings) << c.what;
  }
}

TEST(Evaluate, ChangedComparesOwnersNotPids) {
  const std::vector<Listener> before = {Listen("10.0.0.5", 80, ProcessOwner("nginx", 812)),
                                        Listen("0.0.0.0", 22, ProcessOwner("sshd", 600))};
  const std::vector<Listener> restarted = {Listen("10.0.0.5", 80, ProcessOwner("nginx", 2000)),
                                           Listen("0.0.0.0", 22, ProcessOwner("sshd", 600))};
  EXPECT_TRUE(Evaluate(restarted, &before, {}).findings.empty());

  const std::vector<Listener> taken = {Listen("10.0.0.5", 80, ProcessOwner("apache2", 9))};
  const Evaluation evaluation = Evaluate(taken, &before, {});
  ASSERT_EQ(Summary(evaluation),
            std::vector<std::string>{"changed - 10.0.0.5:80/tcp apache2 (pid 9)"});
  const Finding& changed = evaluation.findings[0];
  EXPECT_EQ(changed.other, "nginx (pid 812)");
  EXPECT_EQ(changed.owner_identity, "process:apache2");
  EXPECT_EQ(changed.explanation,
            "The owner of 10.0.0.5:80/tcp changed from nginx (pid 812) to apache2 (pid 9).");
  // sshd disappearing and listeners appearing are not owner changes.
  const std::vector<Listener> appeared = {Listen("10.0.0.5", 80, ProcessOwner("nginx", 812)),
                                          Listen("0.0.0.0", 443, ProcessOwner("nginx", 812))};
  EXPECT_TRUE(Evaluate(appeared, &before, {}).findings.empty());
}

TEST(Evaluate, ChangedIsReportedWithoutExpectations) {
  const std::vector<Listener> before = {Listen("0.0.0.0", 80, HttpSys())};
  const std::vector<Listener> now = {Listen("0.0.0.0", 80, ProcessOwner("nginx.exe", 812))};
  const Evaluation evaluation = Evaluate(now, &before, {});
  ASSERT_EQ(evaluation.Count(FindingKind::kChanged), 1);
  EXPECT_EQ(evaluation.findings[0].other, "http.sys (System, pid 4)");
}

/// Loads tests/fixtures/config/seed_windows.yml: nginx on 10.0.0.5:80, IIS through HTTP.sys
/// on 172.16.1.1:80, port 80 exclusive.
std::vector<Expectation> SeedExpectations() {
  const YAML::Node root = YAML::LoadFile(PORTWARDEN_FIXTURES_DIR "/config/seed_windows.yml");
  const auto loaded = LoadExpectations(root["expect"], "seed_windows.yml");
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  return loaded.ok() ? *loaded : std::vector<Expectation>{};
}

TEST(Evaluate, SeedScenarioHttpSysWildcardBlocksNginx) {
  const std::vector<Expectation> expectations = SeedExpectations();
  // The iplisten list decayed: HTTP.sys binds 0.0.0.0:80 and nginx cannot start.
  const std::vector<Listener> decayed = {Listen("0.0.0.0", 80, HttpSys()),
                                         Listen("0.0.0.0", 445, Kernel())};
  const Evaluation evaluation = Evaluate(decayed, nullptr, expectations);

  EXPECT_EQ(Summary(evaluation),
            (std::vector<std::string>{"unexpected port-80 0.0.0.0:80/tcp http.sys (System, pid 4)",
                                      "blocked nginx 10.0.0.5:80/tcp http.sys (System, pid 4)"}));
  const Finding& blocked = evaluation.findings[1];
  EXPECT_EQ(blocked.owner_address, "0.0.0.0");
  EXPECT_EQ(blocked.owner_identity, "http.sys:System");
  EXPECT_EQ(blocked.expected, "process=nginx");
  EXPECT_EQ(blocked.explanation,
            "Expectation \"nginx\" wants process=nginx on 10.0.0.5:80/tcp, but http.sys (System, "
            "pid 4) holds 0.0.0.0:80/tcp, which covers that address, so the expected owner "
            "cannot bind it.");
  EXPECT_EQ(blocked.remediation,
            "HTTP.sys binds every address because its IP listen list is empty (or holds "
            "0.0.0.0). Restrict it to the addresses it should keep: `netsh http add iplisten "
            "ipaddress=172.16.1.1`, then restart HTTP.sys, which reads the list only when it "
            "starts: `net stop http /y && net start w3svc` (/y also stops IIS, WinRM and the "
            "other HTTP.sys users; start again those you need). Check with `netsh http show "
            "iplisten`.");
  EXPECT_EQ(evaluation.Count(FindingKind::kBlocked), 1);
  EXPECT_EQ(evaluation.Count(FindingKind::kUnexpected), 1);
  EXPECT_EQ(evaluation.Count(FindingKind::kMissing), 0);
  ASSERT_EQ(evaluation.expectations.size(), 3u);
  EXPECT_FALSE(evaluation.expectations[0].satisfied);  // nginx: blocked
  EXPECT_TRUE(evaluation.expectations[1].satisfied);   // iis: served through the wildcard
  EXPECT_FALSE(evaluation.expectations[2].satisfied);  // port-80: HTTP.sys binds too wide
}

TEST(Evaluate, SeedScenarioFixedIsClean) {
  const std::vector<Expectation> expectations = SeedExpectations();
  // After `netsh http add iplisten ipaddress=172.16.1.1` and the restart.
  const std::vector<Listener> fixed = {Listen("172.16.1.1", 80, HttpSys()),
                                       Listen("10.0.0.5", 80, ProcessOwner("nginx.exe", 812))};
  const std::vector<Listener> decayed = {Listen("0.0.0.0", 80, HttpSys())};
  const Evaluation evaluation = Evaluate(fixed, &decayed, expectations);
  EXPECT_TRUE(evaluation.findings.empty()) << ::testing::PrintToString(Summary(evaluation));
  for (const ExpectationStatus& status : evaluation.expectations) {
    EXPECT_TRUE(status.satisfied) << status.name;
  }
  for (FindingKind kind : kFindingKinds) EXPECT_EQ(evaluation.Count(kind), 0);
}

TEST(Evaluate, HttpSysOnTheExpectedAddressIsWrongOwnerWithDeleteHint) {
  const std::vector<Listener> current = {Listen("10.0.0.5", 80, HttpSys()),
                                         Listen("172.16.1.1", 80, HttpSys())};
  const Evaluation evaluation = Evaluate(current, nullptr, SeedExpectations());
  ASSERT_EQ(
      Summary(evaluation),
      (std::vector<std::string>{"wrong_owner nginx 10.0.0.5:80/tcp http.sys (System, pid 4)",
                                "unexpected port-80 10.0.0.5:80/tcp http.sys (System, pid 4)"}));
  EXPECT_EQ(evaluation.findings[0].remediation.rfind(
                "HTTP.sys binds 10.0.0.5 because its IP listen list names it: `netsh http delete "
                "iplisten ipaddress=10.0.0.5`, then restart HTTP.sys",
                0),
            0u);
}

TEST(Evaluate, RemediationForProcessesByPlatform) {
  const std::vector<Expectation> expectations = Expect(kNginxOn10005);
  const Evaluation linux_unit = Evaluate(
      {Listen("10.0.0.5", 80, ProcessOwner("apache2", 9, "apache2.service", "/usr/sbin/apache2"))},
      nullptr, expectations);
  EXPECT_EQ(linux_unit.findings.at(0).remediation,
            "Find it with `ss -ltnp 'sport = :80'`, then stop it (`systemctl disable --now "
            "apache2.service`) or change its configuration so it leaves 10.0.0.5:80/tcp.");
  const Evaluation windows_service = Evaluate(
      {Listen("0.0.0.0", 80,
              ProcessOwner("httpd.exe", 1500, "Apache2.4", "C:\\Apache24\\bin\\httpd.exe"))},
      nullptr, expectations);
  EXPECT_EQ(windows_service.findings.at(0).remediation,
            "Find it with `Get-NetTCPConnection -LocalPort 80 -State Listen`, then stop it "
            "(`Stop-Service -Name Apache2.4; Set-Service -Name Apache2.4 -StartupType "
            "Disabled`) or change its configuration so it leaves 10.0.0.5:80/tcp.");
  const Evaluation bare_process =
      Evaluate({Listen("10.0.0.5", 80, ProcessOwner("python3", 4242))}, nullptr, expectations);
  EXPECT_NE(bare_process.findings.at(0).remediation.find("(`kill 4242`)"), std::string::npos);
  const Evaluation missing = Evaluate({}, nullptr, expectations);
  EXPECT_EQ(missing.findings.at(0).remediation,
            "Start the expected owner (process=nginx) and check its log for bind errors on "
            "10.0.0.5:80/tcp.");
}

TEST(Evaluate, RemediationForKernelAndUnreadableOwners) {
  const std::vector<Expectation> expectations = Expect(kNginxOn10005);
  const Evaluation kernel = Evaluate({Listen("10.0.0.5", 80, Kernel())}, nullptr, expectations);
  EXPECT_EQ(kernel.findings.at(0).remediation.rfind("The Windows kernel (PID 4) holds", 0), 0u);
  const Evaluation unknown = Evaluate({Listen("10.0.0.5", 80, Unknown())}, nullptr, expectations);
  EXPECT_EQ(unknown.findings.at(0).remediation,
            "Its owner could not be read (portwarden needs root or Administrator rights to see "
            "other users' processes); find it with `ss -ltnp 'sport = :80'` on Linux or "
            "`Get-NetTCPConnection -LocalPort 80 -State Listen` on Windows.");
}

TEST(Evaluate, ConflictWithHttpSysSuggestsRestrictingIt) {
  const Evaluation evaluation = Evaluate(
      {Listen("0.0.0.0", 80, HttpSys()), Listen("10.0.0.5", 80, ProcessOwner("nginx.exe", 812))},
      nullptr, SeedExpectations());
  ASSERT_EQ(evaluation.Count(FindingKind::kConflict), 1);
  const auto conflict =
      std::find_if(evaluation.findings.begin(), evaluation.findings.end(),
                   [](const Finding& f) { return f.kind == FindingKind::kConflict; });
  EXPECT_EQ(conflict->other, "nginx.exe (pid 812) on 10.0.0.5:80/tcp");
  EXPECT_NE(conflict->remediation.find("To move http.sys (System, pid 4) off it: HTTP.sys binds "
                                       "every address"),
            std::string::npos);
  EXPECT_NE(conflict->remediation.find("netsh http add iplisten ipaddress=172.16.1.1"),
            std::string::npos);
}

TEST(Evaluate, KeysAreStableAcrossCyclesAndInputOrder) {
  const std::vector<Expectation> expectations = SeedExpectations();
  std::vector<Listener> cycle1 = {Listen("0.0.0.0", 80, HttpSys()),
                                  Listen("0.0.0.0", 8080, ProcessOwner("nginx", 812)),
                                  Listen("10.0.0.5", 8080, ProcessOwner("apache2", 9))};
  // Next cycle: apache2 restarted under a new PID, the collector lists sockets in another order.
  std::vector<Listener> cycle2 = {Listen("10.0.0.5", 8080, ProcessOwner("apache2", 10)),
                                  Listen("0.0.0.0", 8080, ProcessOwner("nginx", 812)),
                                  Listen("0.0.0.0", 80, HttpSys())};
  const auto keys = [&](const std::vector<Listener>& listeners) {
    std::vector<std::string> result;
    for (const Finding& f : Evaluate(listeners, nullptr, expectations).findings) {
      result.push_back(f.key);
    }
    return result;
  };
  const std::vector<std::string> first = keys(cycle1);
  EXPECT_EQ(first, keys(cycle2));
  EXPECT_EQ(first, (std::vector<std::string>{
                       "unexpected|port-80|tcp|0.0.0.0|80|0.0.0.0|http.sys:System",
                       "blocked|nginx|tcp|10.0.0.5|80|0.0.0.0|http.sys:System",
                       "conflict||tcp|0.0.0.0|8080|0.0.0.0|process:nginx|process:apache2|10.0.0.5",
                   }));
  // A different blocker is a different finding.
  std::vector<Listener> cycle3 = {Listen("0.0.0.0", 80, ProcessOwner("apache2", 9))};
  EXPECT_NE(keys(cycle3).at(1), first.at(1));
}

TEST(Evaluate, OneFindingPerOwnerNotPerProcess) {
  // Two apache2 processes on the expected address: one wrong_owner (the lowest PID shown).
  const Evaluation evaluation = Evaluate({Listen("10.0.0.5", 80, ProcessOwner("apache2", 11)),
                                          Listen("10.0.0.5", 80, ProcessOwner("apache2", 9))},
                                         nullptr, Expect(kNginxOn10005));
  EXPECT_EQ(Summary(evaluation),
            std::vector<std::string>{"wrong_owner web 10.0.0.5:80/tcp apache2 (pid 9)"});
}

TEST(Evaluate, ListenListGivesOneFindingPerEntry) {
  const Evaluation evaluation = Evaluate(
      {Listen("10.0.0.5", 80, ProcessOwner("nginx", 812))}, nullptr,
      Expect("- {name: web, listen: ['10.0.0.5:80', '10.0.0.5:443'], owner: {process: nginx}}"));
  EXPECT_EQ(Summary(evaluation), std::vector<std::string>{"missing web 10.0.0.5:443/tcp -"});
  EXPECT_FALSE(evaluation.expectations.at(0).satisfied);
}

TEST(DescribeOwner, ShortTexts) {
  EXPECT_EQ(DescribeOwner(ProcessOwner("nginx", 812)), "nginx (pid 812)");
  EXPECT_EQ(DescribeOwner(ProcessOwner("svchost.exe", 1200, "W3SVC")),
            "svchost.exe (pid 1200, service W3SVC)");
  EXPECT_EQ(DescribeOwner(HttpSys()), "http.sys (System, pid 4)");
  EXPECT_EQ(DescribeOwner(Kernel()), "kernel (System, pid 4)");
  EXPECT_EQ(DescribeOwner(Unknown()), "unknown");
  Owner unreadable;
  unreadable.holders = {std::make_shared<const Process>(Process{812, 0, "", "", "", "", "", "", "", {}})};
  EXPECT_EQ(DescribeOwner(unreadable), "unknown (pid 812)");
}

TEST(OwnerIdentity, LeavesOutThePid) {
  EXPECT_EQ(OwnerIdentity(ProcessOwner("nginx", 812)), OwnerIdentity(ProcessOwner("nginx", 2000)));
  EXPECT_EQ(OwnerIdentity(ProcessOwner("nginx", 812, "nginx.service")),
            "process:nginx:nginx.service");
  EXPECT_NE(OwnerIdentity(HttpSys()), OwnerIdentity(Kernel()));
}

}  // namespace
}  // namespace portwarden::policy

namespace portwarden::policy {
namespace {

Listener InNetns(Listener l, uint64_t inode, std::string name) {
  l.netns = inode;
  l.netns_name = std::move(name);
  return l;
}

Owner InContainer(std::string process, uint32_t pid, std::string container) {
  Owner owner = ProcessOwner(std::move(process), pid);
  Process p = owner.main();
  p.container = std::move(container);
  owner.holders = {std::make_shared<const Process>(p)};
  return owner;
}

constexpr uint64_t kHost = 4026531833;
constexpr uint64_t kBlue = 4026532300;

// The same port in two namespaces is no conflict; in one namespace it still is.
TEST(PolicyNetns, ConflictsStayInsideANamespace) {
  const std::vector<Listener> apart = {
      InNetns(Listen("0.0.0.0", 80, ProcessOwner("nginx", 10)), kHost, "host"),
      InNetns(Listen("0.0.0.0", 80, ProcessOwner("apache2", 20)), kBlue, "blue")};
  EXPECT_EQ(Evaluate(apart, nullptr, {}).Count(FindingKind::kConflict), 0);
  const std::vector<Listener> together = {
      InNetns(Listen("0.0.0.0", 80, ProcessOwner("nginx", 10)), kBlue, "blue"),
      InNetns(Listen("127.0.0.1", 80, ProcessOwner("apache2", 20)), kBlue, "blue")};
  EXPECT_EQ(Evaluate(together, nullptr, {}).Count(FindingKind::kConflict), 1);
}

// An expectation is about the host by default: a container's own port 80 neither serves
// it nor holds it; netns: any or the namespace's name makes it count.
TEST(PolicyNetns, ExpectationsChooseTheirNamespace) {
  const std::vector<Listener> current = {
      InNetns(Listen("0.0.0.0", 80, InContainer("nginx", 30, "web-1")), kBlue, "blue")};
  auto host = Evaluate(current, nullptr,
                       Expect("- {name: web, listen: '*:80', owner: {process: nginx}}"));
  EXPECT_EQ(host.Count(FindingKind::kMissing), 1);
  EXPECT_EQ(host.Count(FindingKind::kWrongOwner), 0);
  for (const char* netns : {"any", "blue", "4026532300"}) {
    auto in = Evaluate(current, nullptr,
                       Expect(std::string("- {name: web, listen: '*:80', netns: ") + netns +
                              ", owner: {container: 'web-*'}}"));
    EXPECT_TRUE(in.findings.empty()) << netns << ": " << in.findings.front().explanation;
  }
  auto other = Evaluate(current, nullptr,
                        Expect("- {name: web, listen: '*:80', netns: any, owner: {container: 'db-*'}}"));
  EXPECT_EQ(other.Count(FindingKind::kWrongOwner), 1);
  // An exclusive host port is not broken by a container's own listener on it.
  auto exclusive = Evaluate(current, nullptr, Expect("- {name: web, listen: '*:80', exclusive: true}"));
  EXPECT_EQ(exclusive.Count(FindingKind::kUnexpected), 0);
}

// A container publishing a port a host service expects (docker-proxy in the host
// namespace, or a container with the host's network) is a wrong owner.
TEST(PolicyNetns, AContainerOnAHostPortIsAWrongOwner) {
  const std::vector<Listener> current = {
      InNetns(Listen("0.0.0.0", 80, InContainer("nginx", 30, "web-1")), kHost, "host")};
  auto e = Evaluate(current, nullptr,
                    Expect("- {name: web, listen: '*:80', owner: {process: apache2}}"));
  EXPECT_EQ(e.Count(FindingKind::kWrongOwner), 1);
}

TEST(PolicyNetns, UnitMatchesTheSocketUnitOrTheService) {
  Owner activated = ProcessOwner("sshd", 900, "ssh.service");
  activated.socket_unit = "sshd.socket";
  const std::vector<Listener> current = {Listen("0.0.0.0", 22, activated)};
  for (const char* unit : {"sshd.socket", "ssh.service", "ssh*"}) {
    auto e = Evaluate(current, nullptr,
                      Expect(std::string("- {name: ssh, listen: '*:22', owner: {unit: '") + unit + "'}}"));
    EXPECT_TRUE(e.findings.empty()) << unit;
  }
  auto e = Evaluate(current, nullptr, Expect("- {name: ssh, listen: '*:22', owner: {unit: cups.socket}}"));
  EXPECT_EQ(e.Count(FindingKind::kWrongOwner), 1);
}

// A socket PID 1 holds for a .socket unit, no service running yet: the unit and the service
// it activates match, and stopping it means stopping both (the socket would start it again).
TEST(PolicyNetns, AManagerHeldSocketMatchesItsUnitAndItsServiceAndStopsBoth) {
  Owner waiting = ProcessOwner("systemd", 1);
  waiting.socket_unit = "web.socket";
  waiting.socket_service = "nginx.service";
  const std::vector<Listener> current = {Listen("10.0.0.5", 80, waiting)};
  for (const char* owner : {"{unit: web.socket}", "{unit: nginx.service}", "{service: nginx.service}"}) {
    auto e = Evaluate(current, nullptr,
                      Expect(std::string("- {name: web, listen: '*:80', owner: ") + owner + "}"));
    EXPECT_TRUE(e.findings.empty()) << owner;
  }
  auto e = Evaluate(current, nullptr, Expect(kNginxOn10005));
  ASSERT_EQ(e.Count(FindingKind::kWrongOwner), 1);  // the process is systemd, not nginx
  EXPECT_NE(e.findings.at(0).owner.find("systemd (pid 1, service nginx.service)"),
            std::string::npos)
      << e.findings.at(0).owner;
  auto other = Evaluate(current, nullptr,
                        Expect("- {name: web, listen: '*:80', owner: {process: apache2}}"));
  EXPECT_NE(other.findings.at(0).remediation.find(
                "(`systemctl disable --now web.socket nginx.service`)"),
            std::string::npos)
      << other.findings.at(0).remediation;
  // Accept=yes: a template per connection, so the socket alone.
  Owner per_connection = ProcessOwner("systemd", 1);
  per_connection.socket_unit = "ssh.socket";
  per_connection.socket_service = "ssh@.service";
  auto ssh = Evaluate({Listen("10.0.0.5", 80, per_connection)}, nullptr,
                      Expect("- {name: web, listen: '*:80', owner: {process: apache2}}"));
  EXPECT_NE(ssh.findings.at(0).remediation.find("(`systemctl disable --now ssh.socket`)"),
            std::string::npos)
      << ssh.findings.at(0).remediation;
}

// A DNAT rule publishing a container's port 80 on the host takes the traffic of the host
// service expected there: a conflict, the NAT forward named with its target, and the
// remediation pointing at the rule.
TEST(PolicyNetns, ADnatForwardOnAnExpectedHostPortIsAConflict) {
  Owner nat = InContainer("httpd", 5120, "web-1");
  nat.kind = OwnerKind::kNat;
  nat.forwards_to = "10.88.0.5:80";
  const std::vector<Listener> current = {
      InNetns(Listen("0.0.0.0", 80, ProcessOwner("nginx", 812)), kHost, "host"),
      InNetns(Listen("0.0.0.0", 80, nat), kHost, "host")};
  auto e = Evaluate(current, nullptr,
                    Expect("- {name: web, listen: '*:80', owner: {process: nginx}}"));
  ASSERT_EQ(Summary(e), (std::vector<std::string>{
                           "conflict - 0.0.0.0:80/tcp DNAT to 10.88.0.5:80 (httpd, container web-1)"}));
  const Finding& f = e.findings.at(0);
  EXPECT_EQ(f.owner, "DNAT to 10.88.0.5:80 (httpd, container web-1)");
  EXPECT_NE(f.remediation.find("A destination NAT rule forwards 0.0.0.0:80/tcp to 10.88.0.5:80"),
            std::string::npos)
      << f.remediation;
  EXPECT_NE(f.remediation.find("nft list ruleset | grep -n 'dport 80'"), std::string::npos)
      << f.remediation;
}

TEST(PolicyNetns, BadNetnsIsAConfigError) {
  auto loaded = LoadExpectations(
      YAML::Load("- {name: web, listen: '*:80', owner: {process: nginx}, netns: ''}"), "t.yml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("t.yml:1:"), std::string::npos) << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("expect[0].netns"), std::string::npos)
      << loaded.error().message;
}

BindEvent Failed(std::string address, uint16_t port, Owner caller, int error = 98) {
  BindEvent e;
  e.time = 1699920000 + 12 * 3600 + 3 * 60 + 7;  // 2023-11-14 12:03:07 UTC
  e.address = std::move(address);
  e.port = port;
  e.error = error;
  e.caller = caller.main();
  return e;
}

TEST(Evaluate, FailedBindNamesCallerAndHolderAndJoinsTheBlockedFinding) {
  const auto expect = Expect("- {name: web, listen: '10.0.0.5:80', owner: {process: nginx}}");
  const std::vector<Listener> current = {Listen("0.0.0.0", 80, ProcessOwner("apache2", 700))};
  const auto evaluation = Evaluate(current, nullptr, expect,
                                   {Failed("0.0.0.0", 80, ProcessOwner("nginx", 812, "nginx.service"))});
  EXPECT_EQ(Summary(evaluation),
            (std::vector<std::string>{"bind_failed web 0.0.0.0:80/tcp apache2 (pid 700)",
                                      "blocked web 10.0.0.5:80/tcp apache2 (pid 700)"}));
  EXPECT_EQ(evaluation.Count(FindingKind::kBindFailed), 1);
  const Finding& blocked = evaluation.findings[1];
  EXPECT_NE(blocked.explanation.find(
                "nginx (pid 812, service nginx.service) tried at 12:03:07 UTC and got EADDRINUSE."),
            std::string::npos)
      << blocked.explanation;
  const Finding& failed = evaluation.findings[0];
  EXPECT_EQ(failed.other, "nginx (pid 812, service nginx.service)");
  EXPECT_EQ(failed.owner_identity, "process:apache2");
  EXPECT_EQ(failed.explanation,
            "nginx (pid 812, service nginx.service) tried at 12:03:07 UTC and got EADDRINUSE "
            "from bind() on 0.0.0.0:80/tcp; held by apache2 (pid 700) on 0.0.0.0:80/tcp.");
  // The key names the caller, not its PID or the holder: a restarted caller is the same.
  EXPECT_EQ(failed.key, "bind_failed|web|tcp|0.0.0.0|80|process:nginx:nginx.service");
}

TEST(Evaluate, FailedBindOfAnUnexpectedCallerAndOfAFreePort) {
  // A wildcard bind fails on the specific listeners it would cover; a caller that matches
  // no expectation annotates nothing.
  const auto expect = Expect("- {name: web, listen: '10.0.0.5:80', owner: {process: nginx}}");
  const std::vector<Listener> current = {Listen("10.0.0.5", 80, ProcessOwner("nginx", 812)),
                                         Listen("127.0.0.1", 80, ProcessOwner("varnishd", 9))};
  auto evaluation =
      Evaluate(current, nullptr, expect, {Failed("0.0.0.0", 80, ProcessOwner("apache2", 700))});
  ASSERT_EQ(evaluation.findings.size(), 1u);
  EXPECT_EQ(evaluation.findings[0].rule, "");
  EXPECT_NE(evaluation.findings[0].explanation.find(
                "held by nginx (pid 812) on 10.0.0.5:80/tcp, varnishd (pid 9) on 127.0.0.1:80/tcp."),
            std::string::npos)
      << evaluation.findings[0].explanation;

  evaluation = Evaluate({}, nullptr, expect, {Failed("0.0.0.0", 80, ProcessOwner("nginx", 5), 13)});
  ASSERT_EQ(evaluation.findings.size(), 2u);  // and "missing" for web
  EXPECT_EQ(evaluation.findings[0].kind, FindingKind::kBindFailed);
  EXPECT_EQ(evaluation.findings[0].owner, "");
  EXPECT_NE(evaluation.findings[0].explanation.find("got EACCES"), std::string::npos);
  EXPECT_NE(evaluation.findings[0].remediation.find("CAP_NET_BIND_SERVICE"), std::string::npos);
}

TEST(Evaluate, FailedBindOnAPortNoExpectationListsIsNoFinding) {
  // Counted by the metrics, but not a finding: the findings are about the configured ports.
  const auto expect = Expect("- {name: web, listen: '*:80', owner: {process: nginx}}");
  const std::vector<Listener> current = {Listen("0.0.0.0", 80, ProcessOwner("nginx", 812)),
                                         Listen("0.0.0.0", 8080, ProcessOwner("java", 9))};
  auto evaluation = Evaluate(current, nullptr, expect,
                             {Failed("0.0.0.0", 8080, ProcessOwner("nginx", 812))});
  EXPECT_EQ(evaluation.findings.size(), 0u);
  EXPECT_EQ(evaluation.Count(FindingKind::kBindFailed), 0);
  evaluation = Evaluate(current, nullptr, {}, {Failed("0.0.0.0", 80, ProcessOwner("nginx", 5))});
  EXPECT_EQ(evaluation.findings.size(), 0u);
}

}  // namespace
}  // namespace portwarden::policy
