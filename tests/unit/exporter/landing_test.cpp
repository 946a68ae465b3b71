// The status page, rendered from synthetic snapshots: section order, findings with their
// fix, expectations, events, the listener table's filter and sort, HTTP.sys (as on Windows).
#include "exporter/landing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

namespace portwarden {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kNow = 1767268800;  // 2026-01-01 12:00:00 UTC

Listener MakeListener(const std::string& address, uint16_t port, const std::string& process,
                      uint32_t pid, const std::string& service = "") {
  Listener l;
  l.address = address;
  l.port = port;
  l.owner.kind = OwnerKind::kProcess;
  l.owner.holders = {std::make_shared<const Process>(
      Process{pid, 1, process, "/usr/sbin/" + process, "root", service, "", "", "", {}})};
  return l;
}

std::shared_ptr<const Event> MakeEvent(double time, const std::string& type,
                                       const std::string& kind, uint16_t port) {
  auto e = std::make_shared<Event>();
  e->time = time;
  e->type = type;
  e->kind = kind;
  e->rule = kind.empty() ? "" : "web";
  e->address = "127.0.0.1";
  e->port = port;
  e->owner = "squatter (pid 77)";
  e->detail = type + " detail";
  return e;
}

Snapshot Console() {
  Snapshot snap;
  snap.timestamp = kNow;
  snap.listener_backend = "netlink";
  auto set = std::make_shared<ListenerSet>();
  set->listeners = {MakeListener("127.0.0.1", 22, "sshd", 500, "ssh.service"),
                    MakeListener("0.0.0.0", 80, "nginx", 812, "nginx.service"),
                    MakeListener("0.0.0.0", 8080, "squatter", 77),
                    MakeListener("::", 9000, "php-fpm", 900, "php-fpm.service"),
                    MakeListener("::", 10000, "webmin", 1000)};
  set->tcp = set->listeners.size();
  snap.listeners = set;
  snap.collectors = {{"listeners", true, 0.01, ""}};

  policy::Finding f;
  f.kind = policy::FindingKind::kWrongOwner;
  f.rule = "web";
  f.address = "0.0.0.0";
  f.port = 8080;
  f.owner = "squatter (pid 77)";
  f.key = "wrong_owner/web/tcp/0.0.0.0/8080/process:squatter";
  f.explanation = "squatter (pid 77) holds 0.0.0.0:8080, expected process=nginx.";
  f.remediation = "stop squatter (pid 77) && systemctl restart nginx <now>";
  policy::TrackedFinding tracked;
  tracked.finding = f;
  tracked.raised_at = std::chrono::system_clock::time_point(std::chrono::seconds(1767268740));
  tracked.last_seen = tracked.raised_at;
  snap.policy.active[f.key] = tracked;
  snap.policy.evaluation.findings = {f};
  snap.policy.evaluation.expectations = {{"web", false}, {"ssh", true}};
  snap.policy.events = std::make_shared<const std::deque<std::shared_ptr<const Event>>>(
      std::deque<std::shared_ptr<const Event>>{
          MakeEvent(kNow - 3600, "listener_appeared", "", 22),
          MakeEvent(kNow - 60, "finding_raised", "wrong_owner", 8080)});
  return snap;
}

// The Port cells of the listener table, in order.
std::vector<std::string> Ports(const std::string& page) {
  const size_t start = page.find("<table id=\"listener-table\">");
  const std::string table = page.substr(start, page.find("</table>", start) - start);
  std::vector<std::string> ports;
  static const std::regex kRow("<tr><td>[^<]*</td><td>[^<]*</td><td>([0-9]+)</td>");
  for (std::sregex_iterator it(table.begin(), table.end(), kRow), end; it != end; ++it) {
    ports.push_back((*it)[1]);
  }
  return ports;
}

std::vector<std::string> PortsFor(const std::string& query) {
  Snapshot snap = Console();
  return Ports(LandingPage(&snap, "/metrics", ParseLandingQuery(query)));
}

TEST(LandingQuery, ParsesFilterSortAndOrder) {
  LandingQuery q = ParseLandingQuery("q=nginx+port%3A80&sort=port&order=desc&x=1");
  EXPECT_EQ(q.filter, "nginx port:80");
  EXPECT_EQ(q.sort, "port");
  EXPECT_TRUE(q.descending);
  q = ParseLandingQuery("order=asc&novalue&q=100%25%zz%4");
  EXPECT_EQ(q.filter, "100%%zz%4") << "a '%' without two hex digits stays";
  EXPECT_FALSE(q.descending);
  EXPECT_EQ(q.sort, "");
  EXPECT_EQ(ParseLandingQuery("").filter, "");
}

TEST(LandingPage, FindingsComeFirstWithTheirFix) {
  Snapshot snap = Console();
  const std::string page = LandingPage(&snap, "/metrics");
  const size_t findings = page.find("<h2 class=\"err\">Findings (1)</h2>");
  ASSERT_NE(findings, std::string::npos) << page;
  EXPECT_LT(page.find("<section id=\"findings\""), page.find("<h2>Expectations</h2>"));
  EXPECT_LT(page.find("<h2>Expectations</h2>"), page.find("<h2>Latest events</h2>"));
  EXPECT_LT(page.find("<h2>Latest events</h2>"), page.find("<h2>Listeners</h2>"));
  EXPECT_THAT(page, HasSubstr("<li class=\"finding\" data-kind=\"wrong_owner\" data-key=\""
                              "wrong_owner/web/tcp/0.0.0.0/8080/process:squatter\">"));
  EXPECT_THAT(page, HasSubstr("rule <b>web</b> at tcp 0.0.0.0:8080, raised "
                              "2026-01-01 11:59:00 UTC (60 s ago)"));
  EXPECT_THAT(page, HasSubstr("expected process=nginx."));
  EXPECT_THAT(page, HasSubstr("Fix: <code>stop squatter (pid 77) &amp;&amp; systemctl restart "
                              "nginx &lt;now&gt;</code>"));
  EXPECT_THAT(page, HasSubstr("<b class=\"err\">1 finding(s)</b> &middot; 1 of 2 expectation(s) "
                              "hold &middot; collectors ok"));
}

TEST(LandingPage, ANewFindingKindNeedsNoPageChange) {
  // Kinds are rendered from the finding, not from a list: every kind shows the same way.
  for (policy::FindingKind kind : policy::kFindingKinds) {
    Snapshot snap = Console();
    snap.policy.active.begin()->second.finding.kind = kind;
    const std::string name(policy::ToString(kind));
    const std::string page = LandingPage(&snap, "/metrics");
    EXPECT_THAT(page, HasSubstr("<li class=\"finding\" data-kind=\"" + name + "\""));
    EXPECT_THAT(page, HasSubstr("<span class=\"kind\">" + name + "</span>"));
  }
}

TEST(LandingPage, FindingInsideTheHoldDownSaysSo) {
  Snapshot snap = Console();
  snap.policy.active.begin()->second.absent_cycles = 2;
  EXPECT_THAT(LandingPage(&snap, "/metrics"),
              HasSubstr("gone for 2 sample(s), resolving after the hold-down"));
}

TEST(LandingPage, ExpectationsSayWhetherTheyHold) {
  Snapshot snap = Console();
  const std::string page = LandingPage(&snap, "/metrics");
  EXPECT_THAT(page, HasSubstr("<tr data-rule=\"web\"><td>web</td><td class=\"err\">does not "
                              "hold</td><td>1</td></tr>"));
  EXPECT_THAT(page, HasSubstr("<tr data-rule=\"ssh\"><td>ssh</td><td class=\"ok\">holds</td>"
                              "<td>0</td></tr>"));
  snap.policy.evaluation.expectations.clear();
  EXPECT_THAT(LandingPage(&snap, "/metrics"), HasSubstr("None configured"));
}

TEST(LandingPage, NoFindings) {
  Snapshot snap = Console();
  snap.policy.active.clear();
  const std::string page = LandingPage(&snap, "/metrics");
  EXPECT_THAT(page, HasSubstr("<p class=\"ok\">No findings: 2 expectation(s) hold.</p>"));
  EXPECT_THAT(page, Not(HasSubstr("class=\"finding\"")));
  EXPECT_THAT(page, HasSubstr("<b class=\"ok\">0 finding(s)</b>"));
}

TEST(LandingPage, LatestEventsNewestFirstWithTimes) {
  Snapshot snap = Console();
  const std::string page = LandingPage(&snap, "/metrics");
  const size_t raised = page.find("<tr data-type=\"finding_raised\"><td class=\"when\">"
                                  "2026-01-01 11:59:00 UTC<br>60 s ago</td><td class=\"err\">"
                                  "finding_raised</td><td>wrong_owner</td><td>web</td>"
                                  "<td class=\"nowrap\">tcp 127.0.0.1:8080</td>"
                                  "<td>squatter (pid 77)</td>");
  const size_t appeared = page.find("<tr data-type=\"listener_appeared\"><td class=\"when\">"
                                    "2026-01-01 11:00:00 UTC<br>60 min ago</td>");
  ASSERT_NE(raised, std::string::npos) << page;
  ASSERT_NE(appeared, std::string::npos) << page;
  EXPECT_LT(raised, appeared);

  // Only the newest are shown; the page says where the rest are.
  std::deque<std::shared_ptr<const Event>> many;
  for (int i = 0; i < 40; ++i) many.push_back(MakeEvent(kNow - 40 + i, "finding_raised", "x", i));
  snap.policy.events = std::make_shared<const std::deque<std::shared_ptr<const Event>>>(many);
  const std::string long_page = LandingPage(&snap, "/metrics");
  EXPECT_THAT(long_page, HasSubstr("tcp 127.0.0.1:39<"));
  EXPECT_THAT(long_page, HasSubstr("tcp 127.0.0.1:15<"));
  EXPECT_THAT(long_page, Not(HasSubstr("tcp 127.0.0.1:14<")));
  EXPECT_THAT(long_page, HasSubstr("15 older event(s)"));
}

TEST(LandingPage, ListenerTableSortsByAnyColumn) {
  EXPECT_THAT(PortsFor(""), ElementsAre("22", "80", "8080", "9000", "10000"));
  EXPECT_THAT(PortsFor("sort=port&order=desc"),
              ElementsAre("10000", "9000", "8080", "80", "22"))
      << "ports sort as numbers";
  EXPECT_THAT(PortsFor("sort=process"), ElementsAre("80", "9000", "8080", "22", "10000"));
  EXPECT_THAT(PortsFor("sort=service"), ElementsAre("8080", "10000", "80", "9000", "22"));
  EXPECT_THAT(PortsFor("sort=nonsense"), ElementsAre("22", "80", "8080", "9000", "10000"));
}

TEST(LandingPage, ListenerTableFilters) {
  EXPECT_THAT(PortsFor("q=nginx"), ElementsAre("80"));
  EXPECT_THAT(PortsFor("q=NGINX.service"), ElementsAre("80")) << "case-insensitive";
  EXPECT_THAT(PortsFor("q=80"), ElementsAre("80", "8080")) << "text anywhere in the row";
  EXPECT_THAT(PortsFor("q=port%3A80"), ElementsAre("80")) << "a number column must equal";
  EXPECT_THAT(PortsFor("q=service%3Aphp"), ElementsAre("9000"));
  EXPECT_THAT(PortsFor("q=%3A%3A+pid%3A1000"), ElementsAre("10000")) << "every word must match";
  EXPECT_THAT(PortsFor("q=nobody-has-this"), ElementsAre());
  EXPECT_THAT(PortsFor("q=%3A%3A&sort=port&order=desc"), ElementsAre("10000", "9000"));

  Snapshot snap = Console();
  const std::string page = LandingPage(&snap, "/metrics", ParseLandingQuery("q=%3A%3A"));
  EXPECT_THAT(page, HasSubstr("2 of 5 match &ldquo;::&rdquo;."));
}

TEST(LandingPage, SortLinksKeepTheFilterAndToggleTheOrder) {
  Snapshot snap = Console();
  const std::string page =
      LandingPage(&snap, "/metrics", ParseLandingQuery("q=a%22b+c&sort=port"));
  EXPECT_THAT(page, HasSubstr("<th data-key=\"port\"><a href=\"?sort=port&amp;order=desc&amp;"
                              "q=a%22b+c\">Port &#9650;</a></th>"));
  EXPECT_THAT(page, HasSubstr("<th data-key=\"process\"><a href=\"?sort=process&amp;q=a%22b+c\">"
                              "Process</a></th>"));
  // The form carries the same state, escaped.
  EXPECT_THAT(page, HasSubstr("name=\"q\" aria-label=\"Filter listeners\" value=\"a&quot;b c\""));
  EXPECT_THAT(page, HasSubstr("<input type=\"hidden\" name=\"sort\" value=\"port\">"));
  EXPECT_THAT(page, Not(HasSubstr("a\"b")));
}

TEST(LandingPage, SelfContainedAndRefreshing) {
  Snapshot snap = Console();
  const std::string page = LandingPage(&snap, "/metrics");
  EXPECT_THAT(page, Not(HasSubstr(" src=")));
  EXPECT_THAT(page, Not(HasSubstr("stylesheet")));
  EXPECT_THAT(page, HasSubstr("<link rel=\"icon\" href=\"data:,\">")) << "no favicon request";
  EXPECT_THAT(page, Not(HasSubstr("href=\"http")));
  EXPECT_THAT(page, Not(HasSubstr("://"))) << "no URL of another origin, in the script neither";
  EXPECT_THAT(page, HasSubstr("<style>"));
  EXPECT_THAT(page, HasSubstr("setInterval("));
  EXPECT_THAT(page, HasSubstr("<noscript><meta http-equiv=\"refresh\" content=\"30\">"));
  for (const char* live : {"summary", "findings", "collectors", "expectations", "events",
                           "listeners", "httpsys"}) {
    EXPECT_THAT(page, HasSubstr(" id=\"" + std::string(live) + "\" data-live>")) << live;
  }
}

TEST(LandingPage, NotCollectedYet) {
  const std::string page = LandingPage(nullptr, "/metrics");
  EXPECT_THAT(page, HasSubstr("The first collection has not finished yet."));
  EXPECT_THAT(page, HasSubstr("setInterval(")) << "it fills in by itself";
  EXPECT_THAT(page, Not(HasSubstr("<h2>Listeners</h2>")));
}

TEST(LandingPage, FailedCollectorIsShown) {
  Snapshot snap = Console();
  snap.collectors.push_back({"httpsys_requestq", false, 10, "netsh timed out <10 s>"});
  const std::string page = LandingPage(&snap, "/metrics");
  EXPECT_THAT(page, HasSubstr("Collector httpsys_requestq failed: netsh timed out &lt;10 s&gt;"));
  EXPECT_THAT(page, HasSubstr("<span class=\"err\">1 collector(s) failed</span>"));
}

TEST(LandingPage, HttpSysAsOnWindows) {
  Snapshot snap = Console();
  httpsys::HttpSysState& s = snap.httpsys;
  s.collected = true;
  s.iplisten_api = std::vector<httpsys::IpListenEntry>{{"10.0.0.7"}};
  s.iplisten_registry = std::vector<httpsys::IpListenEntry>{{"10.0.0.7"}, {"10.0.0.8"}};
  s.pending_restart = httpsys::PendingRestart{true, {"10.0.0.8 is listed but not bound"}};
  httpsys::UrlReservation winrm{"http://+:5985/wsman/", "D:(A;;GX;;;S-1-5-80-1)", {}};
  winrm.principals.push_back({"NT SERVICE\\WinRM", "S-1-5-80-1", "S-1-5-80-1", true, false});
  httpsys::UrlReservation temp{"http://+:80/Temporary_Listen_Addresses/", "D:(A;;GX;;;WD)", {}};
  temp.principals.push_back({"\\Everyone", "WD", "S-1-1-0", true, false});
  s.urlacls = std::vector<httpsys::UrlReservation>{winrm, temp};
  s.urlacl_source = "api";
  s.latent = httpsys::LatentConflicts{{}, {"http://+:80/Temporary_Listen_Addresses/"}};
  httpsys::TlsBinding soon;
  soon.endpoint = "0.0.0.0:443";
  soon.cert_hash = "0102030405060708090a0b0c0d0e0f1011121314";
  soon.store = "MY";
  soon.not_after = static_cast<int64_t>(kNow) + 10 * 86400;
  httpsys::TlsBinding old = soon;
  old.endpoint = "10.0.0.7:8443";
  old.not_after = static_cast<int64_t>(kNow) - 86400;
  httpsys::TlsBinding unread = soon;
  unread.endpoint = "10.0.0.7:9443";
  unread.not_after.reset();
  s.tls_bindings = std::vector<httpsys::TlsBinding>{soon, old, unread};
  httpsys::RequestQueue queue;
  queue.name = "DefaultAppPool";
  queue.urls = {"HTTP://*:80/"};
  s.queues = std::vector<httpsys::RequestQueue>{queue};

  const std::string page = LandingPage(&snap, "/metrics");
  EXPECT_THAT(page, HasSubstr("IP listen list: registry 10.0.0.7, 10.0.0.8; service 10.0.0.7."));
  EXPECT_THAT(page, HasSubstr("<li>10.0.0.8 is listed but not bound</li>"));
  EXPECT_THAT(page, HasSubstr("<td>DefaultAppPool</td><td></td><td></td><td>HTTP://*:80/</td>"));
  EXPECT_THAT(page, HasSubstr("<td>0.0.0.0:443</td><td>0102030405060708090a0b0c0d0e0f1011121314"
                              "</td><td>MY</td><td>2026-01-11</td><td class=\"warn\">expires in "
                              "10 day(s)</td>"));
  EXPECT_THAT(page, HasSubstr("<td>2025-12-31</td><td class=\"err\">expired</td>"));
  EXPECT_THAT(page, HasSubstr("<td>10.0.0.7:9443</td><td>0102030405060708090a0b0c0d0e0f1011121314"
                              "</td><td>MY</td><td></td><td>unknown</td>"));
  EXPECT_THAT(page, HasSubstr("2 reservation(s), from the api."));
  EXPECT_THAT(page, HasSubstr("<tr><td>http://+:5985/wsman/</td><td>NT SERVICE\\WinRM listen"
                              "</td><td></td></tr>"));
  EXPECT_THAT(page, HasSubstr("<tr><td>http://+:80/Temporary_Listen_Addresses/</td><td>\\Everyone "
                              "listen</td><td class=\"err\">on a port expected elsewhere</td>"));
  EXPECT_LT(page.find("<h2>Listeners</h2>"), page.find("<h2>HTTP.sys</h2>"));
}

TEST(FormatUtc, CalendarAndClock) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(FormatUtc(kNow + 3661.9), "2026-01-01 13:01:01 UTC");
  EXPECT_EQ(FormatUtc(951782400), "2000-02-29 00:00:00 UTC");
}

}  // namespace
}  // namespace portwarden
