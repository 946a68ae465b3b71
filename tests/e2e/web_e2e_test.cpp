// The real portwarden binary's HTTP server against clients that do not play along (idle
// connections, slowloris, oversized and garbage requests, a flood past
// --web.max-connections) and over IPv6: the dual-stack default, [::1], several
// --web.listen-address flags, and an address that cannot be served.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/poll.h"
#include "tests/support/test_support.h"

namespace portwarden::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr seconds kStart{30};


// Connections held open for a test, closed at the end.
struct Held {
  std::vector<int> fds;
  ~Held() {
    for (int fd : fds) close(fd);
  }
};

// A series' value from the daemon's /metrics ("name{labels}" as exposed), -1 if absent or
// the scrape failed.
double Metric(DaemonProcess& d, const std::string& series) {
  const HttpResponse r = d.Get("/metrics");
  const std::string line = "\n" + series + " ";
  const size_t at = r.body.find(line);
  if (r.status != 200 || at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + line.size()));
}

// Starts portwarden on exactly these addresses; ports() are the bound ones, in order.
class Daemon {
 public:
  explicit Daemon(const std::vector<std::string>& addresses) {
    std::vector<std::string> argv = {PortwardenBinary(), "--collect.interval=200ms"};
    for (const std::string& a : addresses) argv.push_back("--web.listen-address=" + a);
    child_ = std::make_unique<Child>(argv);
    PollUntil([&] { return !(ports_ = ListenPortsFromLog(child_->Stderr())).empty(); }, kStart);
  }
  Child& child() { return *child_; }
  const std::vector<int>& ports() const { return ports_; }

 private:
  std::unique_ptr<Child> child_;
  std::vector<int> ports_;
};

TEST(WebE2e, IdleAndSlowlorisClientsDoNotStarveScrapes) {
  DaemonProcess d;
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  ASSERT_TRUE(PollUntil([&] { return d.Get("/metrics").status == 200; }, kStart));
  constexpr int kIdle = 200, kSlow = 100;
  Held held;
  for (int i = 0; i < kIdle + kSlow; ++i) {
    const int fd = ConnectLoopback(d.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    held.fds.push_back(fd);
  }
  // The slowloris half sends a request line, then a header line every 500 ms, never the end.
  std::mutex mu;
  std::condition_variable wake;
  bool stop = false;  // guarded by mu
  std::thread slowloris([&] {
    // MSG_NOSIGNAL: the server closes them at the read timeout, and a write after that
    // must fail with EPIPE, not kill the test with SIGPIPE.
    for (int i = kIdle; i < kIdle + kSlow; ++i) {
      (void)!send(held.fds[i], "GET / HTTP/1.1\r\n", 16, MSG_NOSIGNAL);
    }
    std::unique_lock lock(mu);
    while (!wake.wait_for(lock, milliseconds(500), [&] { return stop; })) {
      for (int i = kIdle; i < kIdle + kSlow; ++i) {
        (void)!send(held.fds[i], "X-a: b\r\n", 8, MSG_NOSIGNAL);
      }
    }
  });
  // All of them wait in the reception stage, none on a worker thread...
  EXPECT_TRUE(PollUntil([&] {
    return Metric(d, "portwarden_http_connections_waiting") == kIdle + kSlow;
  })) << Metric(d, "portwarden_http_connections_waiting");
  // ...and scrapes meanwhile are answered at once (the read timeout, 5 s, has not passed).
  for (int i = 0; i < 5; ++i) {
    const auto start = steady_clock::now();
    const HttpResponse r = d.Get("/metrics");
    const auto took = steady_clock::now() - start;
    EXPECT_EQ(r.status, 200) << "scrape " << i;
    EXPECT_LT(took, seconds(2)) << "scrape " << i;
  }
  // Past --web.read-timeout the server closes them all, the slowloris ones included.
  EXPECT_TRUE(PollUntil([&] {
    return Metric(d, "portwarden_http_connections_dropped_total{reason=\"read_timeout\"}") >=
           kIdle + kSlow;
  }, seconds(30)));
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  wake.notify_one();
  slowloris.join();
  char byte;
  EXPECT_EQ(read(held.fds.front(), &byte, 1), 0);  // closed by the server: EOF
  EXPECT_EQ(Metric(d, "portwarden_http_connections_waiting"), 0);
}

TEST(WebE2e, PastMaxConnectionsTheOldestWaitingOneIsClosed) {
  DaemonProcess d({"--web.max-connections=50"});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  Held held;
  for (int i = 0; i < 80; ++i) {
    const int fd = ConnectLoopback(d.port());
    ASSERT_GE(fd, 0);
    held.fds.push_back(fd);
  }
  EXPECT_TRUE(PollUntil([&] {
    return Metric(d, "portwarden_http_connections_dropped_total{reason=\"max_connections\"}") >= 30;
  })) << d.Get("/metrics").body;
  // The scrapes themselves pushed out a few more; never more than the limit waits.
  EXPECT_LE(Metric(d, "portwarden_http_connections_waiting"), 50);
  char byte;
  EXPECT_EQ(read(held.fds.front(), &byte, 1), 0);  // the oldest was closed: EOF
  EXPECT_EQ(d.Get("/-/healthy").status, 200);
}

TEST(WebE2e, OversizedAndGarbageRequestsGet400AndNothingElseIsAffected) {
  DaemonProcess d;
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  const std::string huge = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n";
  for (const std::string& request : {huge, std::string("\x16\x03\x01garbage\xff\r\n\r\n", 16)}) {
    const int fd = ConnectLoopback(d.port());
    ASSERT_GE(fd, 0);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // The server may close before it read all of a 1 MiB head; a failed write is fine.
    (void)!send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string answer(64, '\0');
    const ssize_t n = read(fd, answer.data(), answer.size());
    close(fd);
    // A 4xx status line, or the connection closed (reset) without one.
    if (n > 0) {
      answer.resize(size_t(n));
      EXPECT_EQ(answer.rfind("HTTP/1.", 0), 0u) << answer;
      EXPECT_EQ(answer.substr(9, 1), "4") << answer;
    } else {
      EXPECT_LE(n, 0);
    }
  }
  const HttpResponse r = d.Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("portwarden_build_info"), std::string::npos);
}

TEST(WebE2e, DefaultAddressServesIpv4AndIpv6) {
  const int port = FreePort();
  Daemon d({":" + std::to_string(port)});
  ASSERT_EQ(d.ports(), std::vector<int>{port}) << d.child().Stderr();
  EXPECT_TRUE(PollUntil([&] { return HttpGet("127.0.0.1", port, "/-/healthy").status == 200; }));
  EXPECT_TRUE(PollUntil([&] { return HttpGet("::1", port, "/-/healthy").status == 200; }));
}

TEST(WebE2e, SeveralListenAddressesEachServeTheirOwnFamily) {
  Daemon d({"[::1]:0", "127.0.0.1:0"});
  ASSERT_EQ(d.ports().size(), 2u) << d.child().Stderr();
  const int v6 = d.ports()[0], v4 = d.ports()[1];
  EXPECT_TRUE(PollUntil([&] {
    return HttpGet("::1", v6, "/metrics").body.find("portwarden_listener_info") !=
           std::string::npos;
  }, kStart));
  EXPECT_EQ(HttpGet("127.0.0.1", v4, "/-/healthy").status, 200);
  // Each socket serves only the address it was given.
  EXPECT_EQ(HttpGet("127.0.0.1", v6, "/-/healthy").status, 0);
  EXPECT_EQ(HttpGet("::1", v4, "/-/healthy").status, 0);
}

TEST(WebE2e, AnAddressInUseIsNamedWithItsHolder) {
  TcpListener squatter("::1", 0);
  ASSERT_GT(squatter.port(), 0);
  const std::string address = "[::1]:" + std::to_string(squatter.port());
  // The other address is free: one that fails is as fatal as all of them.
  Child c({PortwardenBinary(), "--web.listen-address=127.0.0.1:0",
           "--web.listen-address=" + address});
  EXPECT_EQ(c.Wait(kStart), 1);
  const std::string err = c.Stderr();
  EXPECT_NE(err.find("cannot listen on " + address + ": address already in use; the port is "
                     "held by web_e2e_test (pid " + std::to_string(getpid())),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("Failed to setup server ports"), std::string::npos) << err;
}

}  // namespace
}  // namespace portwarden::testing
