// The pure derivations, table-driven: PID 4 attribution, pending restart, latent conflicts
// (with the seed scenario: IIS kept on 172.16.1.1 by the listen list, nginx on 10.0.0.5:80)
// and the API/registry comparison of reservations.

#include "collectors/httpsys/derive.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace portwarden::httpsys {
namespace {

Listener Kernel(std::string address, uint16_t port, Proto proto = Proto::kTcp) {
  Listener l;
  l.proto = proto;
  l.family = address.find(':') == std::string::npos ? Family::kIpv4 : Family::kIpv6;
  l.address = std::move(address);
  l.port = port;
  l.owner.kind = OwnerKind::kKernel;
  l.owner.holders = {std::make_shared<const Process>(Process{4, 0, "System", "", "", "", "", "", "", {}})};
  return l;
}

Listener Nginx(std::string address, uint16_t port) {
  Listener l = Kernel(std::move(address), port);
  l.owner.kind = OwnerKind::kProcess;
  l.owner.holders = {std::make_shared<const Process>(Process{812, 0, "nginx.exe", "", "", "", "", "", "", {}})};
  return l;
}

RequestQueue Queue(std::string name, std::vector<QueueProcess> processes,
                   std::vector<std::string> urls, std::optional<uint32_t> controller = {}) {
  RequestQueue q;
  q.name = std::move(name);
  q.version = "2.0";
  q.processes = std::move(processes);
  q.urls = std::move(urls);
  q.controller_pid = controller;
  return q;
}

std::vector<IpListenEntry> List(std::vector<std::string> addresses) {
  std::vector<IpListenEntry> out;
  for (auto& a : addresses) out.push_back({std::move(a)});
  return out;
}

// IIS: DefaultAppPool served by w3wp.exe, controlled by WAS; WinRM in a shared svchost.
const RequestQueue kIis =
    Queue("DefaultAppPool", {{3120, "c:\\windows\\system32\\inetsrv\\w3wp.exe", {}}},
          {"HTTP://*:80/", "HTTPS://*:443/"}, 1876);
const RequestQueue kWinRm = Queue("", {{1044, "", {}}}, {"HTTP://+:5985/WSMAN/"});
const RequestQueue kLoopbackOnly =
    Queue("", {{2200, "C:\\app\\api.exe", {"ApiSvc"}}}, {"HTTP://127.0.0.1:8000:127.0.0.1/"});
const std::map<uint32_t, ProcessIdentity> kProcesses = {
    {1876, {"svchost.exe", {"W3SVC", "WAS"}}},
    {1044, {"svchost.exe", {"WinRM"}}},
    {3120, {"w3wp.exe", {}}},
};

TEST(AttributeHttpSysListeners, Table) {
  struct Case {
    std::string name;
    Listener listener;
    OwnerKind kind;
    std::string service;
    std::vector<uint32_t> holders;  // PIDs, main first
  };
  const std::vector<Case> cases = {
      {"wildcard registration covers 0.0.0.0:80",
       Kernel("0.0.0.0", 80),
       OwnerKind::kHttpSys,
       "W3SVC,WAS",
       {4, 3120, 1876}},
      {"and a listen-list address",
       Kernel("172.16.1.1", 80),
       OwnerKind::kHttpSys,
       "W3SVC,WAS",
       {4, 3120, 1876}},
      {"and IPv6", Kernel("::", 443), OwnerKind::kHttpSys, "W3SVC,WAS", {4, 3120, 1876}},
      {"WinRM: services from the process list",
       Kernel("0.0.0.0", 5985),
       OwnerKind::kHttpSys,
       "WinRM",
       {4, 1044}},
      {"IP-bound registration: its own IP",
       Kernel("127.0.0.1", 8000),
       OwnerKind::kHttpSys,
       "ApiSvc",
       {4, 2200}},
      {"IP-bound registration: wildcard of its family",
       Kernel("0.0.0.0", 8000),
       OwnerKind::kHttpSys,
       "ApiSvc",
       {4, 2200}},
      {"IP-bound registration: not another IP",
       Kernel("10.0.0.5", 8000),
       OwnerKind::kKernel,
       "",
       {4}},
      {"no registration: SMB stays kernel", Kernel("0.0.0.0", 445), OwnerKind::kKernel, "", {4}},
      {"UDP is not HTTP.sys's", Kernel("0.0.0.0", 80, Proto::kUdp), OwnerKind::kKernel, "", {4}},
      {"a process's listener is never taken",
       Nginx("10.0.0.5", 80),
       OwnerKind::kProcess,
       "",
       {812}},
  };
  for (const Case& c : cases) {
    std::vector<Listener> listeners = {c.listener};
    size_t n = AttributeHttpSysListeners(listeners, {kIis, kWinRm, kLoopbackOnly}, kProcesses);
    const Owner& owner = listeners[0].owner;
    EXPECT_EQ(n, c.kind == OwnerKind::kHttpSys ? 1u : 0u) << c.name;
    EXPECT_EQ(owner.kind, c.kind) << c.name;
    EXPECT_EQ(owner.main().service, c.service) << c.name;
    std::vector<uint32_t> pids;
    for (const auto& h : owner.holders) pids.push_back(h->pid);
    EXPECT_EQ(pids, c.holders) << c.name;
  }
}

TEST(AttributeHttpSysListeners, HoldersAreNamed) {
  std::vector<Listener> listeners = {Kernel("0.0.0.0", 80)};
  AttributeHttpSysListeners(listeners, {kIis}, kProcesses);
  const auto& holders = listeners[0].owner.holders;
  ASSERT_EQ(holders.size(), 3u);
  EXPECT_EQ(holders[0]->name, "System");
  EXPECT_EQ(holders[1]->name, "w3wp.exe");
  EXPECT_EQ(holders[1]->exe, "c:\\windows\\system32\\inetsrv\\w3wp.exe");
  EXPECT_EQ(holders[2]->name, "svchost.exe");
  EXPECT_EQ(holders[2]->service, "W3SVC,WAS");
  EXPECT_EQ(listeners[0].owner.main().pid, 4u) << "the socket's holder stays PID 4";
}

TEST(CheckPendingRestart, Table) {
  using List_ = std::optional<std::vector<IpListenEntry>>;
  Listener http_sys_wildcard = Kernel("0.0.0.0", 80);
  http_sys_wildcard.owner.kind = OwnerKind::kHttpSys;
  Listener http_sys_listed = Kernel("172.16.1.1", 80);
  http_sys_listed.owner.kind = OwnerKind::kHttpSys;
  const std::vector<Listener> on_wildcard = {http_sys_wildcard, Nginx("10.0.0.5", 8080)};
  const std::vector<Listener> on_listed = {http_sys_listed, Kernel("0.0.0.0", 445)};
  struct Case {
    std::string name;
    List_ api;
    List_ registry;
    const std::vector<Listener>* listeners;
    std::optional<bool> pending;  // nullopt: nothing to compare
  };
  const std::vector<Case> cases = {
      {"nothing read", std::nullopt, std::nullopt, &on_wildcard, std::nullopt},
      {"one list, no listeners", List({"172.16.1.1"}), std::nullopt, nullptr, std::nullopt},
      {"sources agree (spelling aside)", List({"::", "10.0.0.6"}), List({"10.0.0.6", "0::0"}),
       nullptr, false},
      {"registry edited behind the service", List({"172.16.1.1"}), List({}), nullptr, true},
      {"list added, HTTP.sys still on 0.0.0.0 (the seed fix before a restart)",
       List({"172.16.1.1"}), List({"172.16.1.1"}), &on_wildcard, true},
      {"list added and restarted", List({"172.16.1.1"}), List({"172.16.1.1"}), &on_listed, false},
      {"list emptied, HTTP.sys still on its old address", List({}), List({}), &on_listed, true},
      {"empty list, wildcard bind", std::nullopt, List({}), &on_wildcard, false},
      {"registry unreadable: the API's list is the configured one", List({"172.16.1.1"}),
       std::nullopt, &on_listed, false},
  };
  for (const Case& c : cases) {
    auto result = CheckPendingRestart(c.api, c.registry, c.listeners);
    ASSERT_EQ(result.has_value(), c.pending.has_value()) << c.name;
    if (!result) continue;
    EXPECT_EQ(result->pending, *c.pending) << c.name;
    EXPECT_EQ(result->reasons.empty(), !*c.pending) << c.name;
  }
}

TEST(CheckPendingRestart, ReasonsSayWhat) {
  Listener stale = Kernel("0.0.0.0", 80);
  stale.owner.kind = OwnerKind::kHttpSys;
  Listener stale_tls = Kernel("0.0.0.0", 443);
  stale_tls.owner.kind = OwnerKind::kHttpSys;
  std::vector<Listener> listeners = {stale, stale_tls};
  auto r = CheckPendingRestart(List({"172.16.1.1"}), List({"172.16.1.1", "10.0.0.7"}), &listeners);
  ASSERT_TRUE(r && r->pending);
  ASSERT_EQ(r->reasons.size(), 2u);
  EXPECT_EQ(r->reasons[0],
            "The registry ListenOnlyList (10.0.0.7, 172.16.1.1) differs from the list the HTTP "
            "service has loaded (172.16.1.1).");
  EXPECT_EQ(r->reasons[1],
            "HTTP.sys holds 0.0.0.0 (port 80, 443) but the configured listen list (10.0.0.7, "
            "172.16.1.1) does not name it.");
}

TEST(FindLatentConflicts, SeedScenarioAndVariations) {
  // Expectations of tests/fixtures/config/seed_windows.yml: nginx on 10.0.0.5:80; "iis"
  // (kind http.sys) claims nothing; plus an "any address" claim on 8080.
  const std::vector<AddressClaim> claims = {
      {"nginx", "10.0.0.5", 80}, {"api", "", 8080}, {"v6", "2001:db8::5", 80}};
  const std::vector<std::string> iis_urls = {"HTTP://*:80/"};
  const std::vector<UrlReservation> defaults = {
      {"http://+:80/Temporary_Listen_Addresses/", "D:(A;;GX;;;WD)", {}},
      {"http://+:5985/wsman/", "D:(A;;GX;;;S-1-5-80-569256582)", {}},
      {"http://+:8080/api/", "D:(A;;GX;;;NS)", {}}};
  struct Case {
    std::string name;
    std::vector<IpListenEntry> list;
    std::vector<std::string> registered;
    std::vector<UrlReservation> reservations;
    std::vector<std::string> conflicts;  // "rule address:port <- bind"
    std::vector<std::string> unexpected;
  };
  const std::vector<Case> cases = {
      {"seed fixed: HTTP.sys kept on 172.16.1.1",
       List({"172.16.1.1"}),
       iis_urls,
       defaults,
       {"api *:8080 <- 172.16.1.1"},
       {"http://+:8080/api/"}},
      {"seed decayed: list emptied",
       {},
       iis_urls,
       defaults,
       {"nginx 10.0.0.5:80 <- 0.0.0.0", "v6 2001:db8::5:80 <- ::", "api *:8080 <- 0.0.0.0"},
       {"http://+:80/Temporary_Listen_Addresses/", "http://+:8080/api/"}},
      {"someone listed nginx's address",
       List({"172.16.1.1", "10.0.0.5"}),
       iis_urls,
       {},
       {"nginx 10.0.0.5:80 <- 10.0.0.5"},
       {}},
      {"0.0.0.0 on the list is a wildcard too",
       List({"0.0.0.0"}),
       {},
       defaults,
       {"nginx 10.0.0.5:80 <- 0.0.0.0", "api *:8080 <- 0.0.0.0"},
       {"http://+:80/Temporary_Listen_Addresses/", "http://+:8080/api/"}},
      {"no URL on the port: HTTP.sys does not bind it", {}, {"HTTP://+:5985/WSMAN/"}, {}, {}, {}},
      {"a reservation alone is enough (anyone granted it can register)",
       {},
       {},
       defaults,
       {"nginx 10.0.0.5:80 <- 0.0.0.0", "v6 2001:db8::5:80 <- ::", "api *:8080 <- 0.0.0.0"},
       {"http://+:80/Temporary_Listen_Addresses/", "http://+:8080/api/"}},
      {"unparsable URLs and list entries are ignored",
       List({"bogus", "172.16.1.1"}),
       {"HTTP://*:80"},
       {},
       {},
       {}},
  };
  for (const Case& c : cases) {
    LatentConflicts got = FindLatentConflicts(c.list, c.registered, c.reservations, claims);
    std::vector<std::string> conflicts;
    for (const auto& x : got.conflicts) {
      conflicts.push_back(x.rule + " " + x.address + ":" + std::to_string(x.port) + " <- " +
                          x.bind);
    }
    std::sort(conflicts.begin(), conflicts.end());
    std::vector<std::string> want = c.conflicts;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(conflicts, want) << c.name;
    EXPECT_EQ(got.unexpected_reservations, c.unexpected) << c.name;
  }
}

TEST(FindLatentConflicts, NamesTheUrlsThatMakeHttpSysBind) {
  LatentConflicts got = FindLatentConflicts({}, {"HTTP://*:80/", "HTTP://*:80/"},
                                            {{"http://+:80/Temporary_Listen_Addresses/", "", {}}},
                                            {{"nginx", "10.0.0.5", 80}});
  ASSERT_EQ(got.conflicts.size(), 1u);
  EXPECT_EQ(got.conflicts[0].urls,
            (std::vector<std::string>{"HTTP://*:80/", "http://+:80/Temporary_Listen_Addresses/"}));
}

TEST(CompareReservations, Differences) {
  auto acl = [](std::string url, std::string sid, bool listen, bool delegate) {
    UrlReservation r;
    r.url = std::move(url);
    UrlAclPrincipal p;
    p.trustee = p.sid = sid;
    p.listen = listen;
    p.delegate = delegate;
    r.principals.push_back(p);
    return r;
  };
  // URLs compare case-insensitively, as HTTP.sys matches them.
  const std::vector<UrlReservation> api = {
      acl("http://+:80/Temporary_Listen_Addresses/", "S-1-1-0", true, false),
      acl("http://+:5985/wsman/", "S-1-5-20", true, false),
      acl("http://+:8080/", "S-1-5-20", true, false)};
  const std::vector<UrlReservation> registry = {
      acl("HTTP://+:80/temporary_listen_addresses/", "S-1-1-0", true, false),
      acl("http://+:5985/wsman/", "S-1-5-20", true, true),
      acl("http://+:9000/", "S-1-1-0", true, false)};
  EXPECT_EQ(CompareReservations(api, registry),
            (std::vector<UrlAclMismatch>{{"http://+:5985/wsman/", "rights"},
                                         {"http://+:8080/", "api_only"},
                                         {"http://+:9000/", "registry_only"}}));
  EXPECT_TRUE(CompareReservations(api, api).empty());
}

}  // namespace
}  // namespace portwarden::httpsys
