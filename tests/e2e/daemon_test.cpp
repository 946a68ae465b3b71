// The real daemon: endpoints, promtool on live output, signals, usage errors, and owners
// compared with `ss -ltnup` for the same moment.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace portwarden::testing {
namespace {

TEST(Daemon, ServesEndpointsAndPassesPromtool) {
  TcpListener mine;
  DaemonProcess d;
  ASSERT_NE(d.port(), 0) << d.child().Stderr();

  auto healthy = HttpGet("127.0.0.1", d.port(), "/-/healthy");
  EXPECT_EQ(healthy.status, 200);
  ASSERT_TRUE(PollUntil([&] { return HttpGet("127.0.0.1", d.port(), "/-/ready").status == 200; }));

  const std::string own = "portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"127.0.0.1\","
                          "port=\"" + std::to_string(mine.port()) + "\",pid=\"" +
                          std::to_string(getpid()) + "\",kind=\"process\",process=\"daemon_test\"";
  HttpResponse metrics;
  ASSERT_TRUE(PollUntil([&] {
    metrics = HttpGet("127.0.0.1", d.port(), "/metrics");
    return metrics.body.find(own) != std::string::npos;
  })) << metrics.body;
  EXPECT_NE(metrics.headers.find("text/plain; version=0.0.4"), std::string::npos);
  const std::string daemon_self = "port=\"" + std::to_string(d.port()) + "\",pid=\"" +
                                  std::to_string(d.child().pid()) + "\",kind=\"process\",process=\"portwarden\"";
  EXPECT_NE(metrics.body.find(daemon_self), std::string::npos);
  EXPECT_NE(metrics.body.find("portwarden_collector_success{collector=\"listeners\"} 1"),
            std::string::npos);

  auto promtool = RunCommand("promtool check metrics", metrics.body);
  EXPECT_EQ(promtool.status, 0) << promtool.output;

  auto landing = HttpGet("127.0.0.1", d.port(), "/");
  EXPECT_EQ(landing.status, 200);
  EXPECT_NE(landing.body.find("<h2>Listeners</h2>"), std::string::npos);
  EXPECT_NE(landing.body.find("<td>" + std::to_string(mine.port()) + "</td>"), std::string::npos);
  EXPECT_NE(landing.body.find("href=\"/metrics\""), std::string::npos);

  EXPECT_EQ(HttpGet("127.0.0.1", d.port(), "/nope").status, 404);
  EXPECT_EQ(HttpRequest("127.0.0.1", d.port(), "POST", "/metrics", "x").status, 405);

  d.child().Signal(SIGTERM);
  // Stopping waits for the cycle in progress; a loaded CI machine makes that slow.
  EXPECT_EQ(d.child().Wait(std::chrono::seconds(60)), 0);
  EXPECT_NE(d.child().Stderr().find("msg=\"shutting down\""), std::string::npos);
}

TEST(Daemon, CustomTelemetryPathAndJsonLogs) {
  DaemonProcess d({"--web.telemetry-path=/custom", "--log.format=json"});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  EXPECT_NE(d.child().Stderr().find("\"msg\":\"portwarden started\""), std::string::npos);
  ASSERT_TRUE(PollUntil([&] {
    return HttpGet("127.0.0.1", d.port(), "/custom").body.find("portwarden_listener_info") !=
           std::string::npos;
  }));
  EXPECT_EQ(HttpGet("127.0.0.1", d.port(), "/metrics").status, 404);
  d.child().Signal(SIGINT);
  EXPECT_EQ(d.child().Wait(), 0);
}

// Asked for gzip, as Prometheus asks on every scrape: curl decodes the answer (one gzip
// member, whose end is deflated per request) into an exposition promtool accepts, the
// notifier's families at its end included.
TEST(Daemon, GzipScrapeDecodesWithCurlAndPassesPromtool) {
  DaemonProcess d;
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  ASSERT_TRUE(PollUntil([&] { return d.Get("/-/ready").status == 200; }));
  auto curl = RunCommand("curl -sS --compressed -D - http://127.0.0.1:" +
                         std::to_string(d.port()) + "/metrics");
  ASSERT_EQ(curl.status, 0) << curl.output;
  const size_t split = curl.output.find("\r\n\r\n");
  ASSERT_NE(split, std::string::npos) << curl.output;
  const std::string headers = curl.output.substr(0, split + 2);
  const std::string body = curl.output.substr(split + 4);
  EXPECT_NE(headers.find("\r\nContent-Encoding: gzip\r\n"), std::string::npos) << headers;
  EXPECT_NE(headers.find("\r\nVary: Accept-Encoding\r\n"), std::string::npos) << headers;
  EXPECT_NE(body.find("\nportwarden_listener_info{"), std::string::npos) << body;
  EXPECT_NE(body.find("\nportwarden_notifications_dropped_total 0\n"), std::string::npos) << body;
  auto promtool = RunCommand("promtool check metrics", body);
  EXPECT_EQ(promtool.status, 0) << promtool.output;
  d.child().Signal(SIGTERM);
  EXPECT_EQ(d.child().Wait(std::chrono::seconds(60)), 0);
}

TEST(Daemon, UsageErrorsExit2) {
  for (std::string flag : {"--bogus", "--collect.interval=fast", "--log.level=loud"}) {
    Child c({PortwardenBinary(), flag});
    EXPECT_EQ(c.Wait(), 2) << flag;
    std::string name = flag.substr(0, flag.find('='));
    EXPECT_NE(c.Stderr().find(name), std::string::npos) << c.Stderr();
  }
}

TEST(Daemon, BadConfigFileExits1WithPosition) {
  std::string path = WriteTempFile("collect:\n  interval: soon\n");
  Child c({PortwardenBinary(), "--config.file=" + path});
  EXPECT_EQ(c.Wait(), 1);
  EXPECT_NE(c.Stderr().find(std::string(path) + ":2:13: collect.interval: invalid duration"),
            std::string::npos)
      << c.Stderr();
  unlink(path.c_str());
}

TEST(Daemon, PortInUseNamesTheHolder) {
  TcpListener mine;
  Child c({PortwardenBinary(), "--web.listen-address=127.0.0.1:" + std::to_string(mine.port())});
  EXPECT_EQ(c.Wait(), 1);
  EXPECT_NE(c.Stderr().find("the port is held by daemon_test (pid " + std::to_string(getpid())),
            std::string::npos)
      << c.Stderr();
}

// (proto, address, port) -> sorted holder PIDs, from `ss -Hltnup`.
std::map<std::tuple<std::string, std::string, int>, std::set<int>> SsListeners() {
  std::map<std::tuple<std::string, std::string, int>, std::set<int>> out;
  auto ss = RunCommand("ss -Hltnup");
  std::regex line(R"(^(tcp|udp)\s+\S+\s+\d+\s+\d+\s+(\S+):(\d+)\s+\S+\s*(.*)$)");
  std::regex pid(R"(pid=(\d+))");
  std::istringstream in(ss.output);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_match(l, m, line)) continue;
    std::string addr = m[2];
    if (addr == "*") addr = "::";  // ss prints a dual-stack [::] as *
    if (addr.front() == '[') addr = addr.substr(1, addr.size() - 2);
    addr = addr.substr(0, addr.find('%'));  // strip %iface of device-bound sockets
    auto& pids = out[{m[1], addr, std::stoi(m[3])}];
    std::string users = m[4];
    for (std::sregex_iterator it(users.begin(), users.end(), pid), end; it != end; ++it) {
      pids.insert(std::stoi((*it)[1]));
    }
  }
  return out;
}

TEST(Daemon, SnapshotAgreesWithSs) {
  using Listeners = std::map<std::tuple<std::string, std::string, int>, std::set<int>>;
  TcpListener a, b;
  Listeners before, after, ours;
  struct stat own {};
  ASSERT_EQ(stat("/proc/self/ns/net", &own), 0);
  const uint64_t own_netns = own.st_ino;
  // Listeners of ours that neither ss run shows: invented, unless they lived only while the
  // snapshot ran (other tests open and close listeners concurrently). An invented one
  // shows in every snapshot, a concurrent test's does not: take snapshots until one has none
  // (almost always the first), and report the last attempt's if none comes within 60 s.
  std::vector<std::string> invented;
  ASSERT_TRUE(PollUntil([&] {
    before = SsListeners();
    auto snap = RunCommand(PortwardenBinary() + " snapshot --format json 2>/dev/null");
    after = SsListeners();
    if (snap.status != 0) {
      ADD_FAILURE() << snap.output;
      return true;
    }
    auto json = nlohmann::json::parse(snap.output);
    ours.clear();
    for (const auto& l : json["listeners"]) {
      // ss sees our network namespace; portwarden every one (same ports in others are fine).
      if (l["netns"]["inode"].get<uint64_t>() != own_netns) continue;
      auto& pids = ours[{l["proto"], l["address"], l["port"].get<int>()}];
      for (const auto& h : l["owner"]["holders"]) pids.insert(h["pid"].get<int>());
    }
    invented.clear();
    for (const auto& [key, pids] : ours) {
      if (!before.contains(key) && !after.contains(key)) {
        invented.push_back(std::get<0>(key) + " " + std::get<1>(key) + ":" +
                           std::to_string(std::get<2>(key)));
      }
    }
    return invented.empty();
  }, std::chrono::seconds(60))) << "listed by portwarden, by neither ss run: "
                                << ::testing::PrintToString(invented);
  // Compare on what was stable across the two ss runs (other tests run concurrently).
  int compared = 0;
  for (const auto& [key, pids] : before) {
    auto it = after.find(key);
    if (it == after.end() || it->second != pids) continue;
    ASSERT_TRUE(ours.contains(key)) << std::get<1>(key) << ":" << std::get<2>(key);
    EXPECT_EQ(ours[key], pids) << std::get<1>(key) << ":" << std::get<2>(key);
    ++compared;
  }
  EXPECT_GE(compared, 2);
  EXPECT_TRUE(ours.contains({"tcp", "127.0.0.1", a.port()}));
  std::set<int> self = {getpid()};
  EXPECT_EQ((ours[{"tcp", "127.0.0.1", b.port()}]), self);
}

}  // namespace
}  // namespace portwarden::testing
