// Live: real winsock sockets and an HTTP.sys URL registration made by this process, read back
// through the Windows listener source. Runs on Windows and, cross-built, under Wine.
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <http.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "collectors/listeners/attribution.h"
#include "collectors/listeners/source.h"

namespace portwarden {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kSystemPid = 4;

/// Wine answers the socket tables from wineserver, which does not track which process holds
/// a socket: every row carries PID 0, so no owner can be attributed there.
bool UnderWine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

/// A winsock socket bound to 127.0.0.1 on a port the OS picked (listening if TCP).
/// Closed on destruction or by Close().
class LoopbackSocket {
 public:
  explicit LoopbackSocket(int type) {
    socket_ = socket(AF_INET, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
    EXPECT_NE(socket_, INVALID_SOCKET) << "socket: " << WSAGetLastError();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int len = sizeof addr;
    EXPECT_EQ(bind(socket_, reinterpret_cast<sockaddr*>(&addr), len), 0)
        << "bind: " << WSAGetLastError();
    if (type == SOCK_STREAM) {
      EXPECT_EQ(listen(socket_, 8), 0) << "listen: " << WSAGetLastError();
    }
    EXPECT_EQ(getsockname(socket_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~LoopbackSocket() { Close(); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;

  uint16_t port() const { return port_; }
  void Close() {
    if (socket_ != INVALID_SOCKET) closesocket(socket_);
    socket_ = INVALID_SOCKET;
  }

 private:
  SOCKET socket_ = INVALID_SOCKET;
  uint16_t port_ = 0;
};

/// The sockets of one sample on proto and port.
std::vector<OwnedSocket> On(const std::vector<OwnedSocket>& sample, Proto proto, uint16_t port) {
  std::vector<OwnedSocket> out;
  for (const auto& s : sample) {
    if (s.socket.proto == proto && s.socket.port == port) out.push_back(s);
  }
  return out;
}

/// Samples until done() accepts the sample or the deadline passes; returns the last sample.
/// Registration and teardown (an http.sys driver running in another process under Wine)
/// need not be visible in the very next table read, so a single sample would be a race.
std::vector<OwnedSocket> SampleUntil(
    ListenerSource& source, const std::function<bool(const std::vector<OwnedSocket>&)>& done,
    std::chrono::milliseconds deadline = 120s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto sample = source.Sample();
    EXPECT_TRUE(sample.ok()) << (sample ? "" : sample.error().message);
    if (!sample) return {};
    if (done(**sample) || std::chrono::steady_clock::now() >= until) return **sample;
    std::this_thread::sleep_for(20ms);
  }
}

/// The owner the collector attributes to the listener at proto/address/port.
Owner OwnerOf(const std::vector<OwnedSocket>& sample, Proto proto, const std::string& address,
              uint16_t port) {
  for (const Listener& l : BuildListeners(sample, {}).listeners) {
    if (l.proto == proto && l.address == address && l.port == port) return l.owner;
  }
  ADD_FAILURE() << "no listener " << ToString(proto) << " " << address << ":" << port;
  return {};
}

/// On Windows the row's PID is the holder; under Wine it is 0 and the owner stays unknown.
void ExpectOwner(const Owner& owner, uint32_t windows_pid, OwnerKind windows_kind) {
  if (UnderWine()) {
    EXPECT_EQ(owner.kind, OwnerKind::kUnknown);
    EXPECT_TRUE(owner.holders.empty());
    return;
  }
  EXPECT_EQ(owner.kind, windows_kind);
  EXPECT_EQ(owner.main().pid, windows_pid);
}

class WindowsSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    WSADATA data;
    ASSERT_EQ(WSAStartup(MAKEWORD(2, 2), &data), 0);
  }
  static void TearDownTestSuite() { WSACleanup(); }
};

TEST_F(WindowsSourceTest, ReportsOwnTcpListenerAndUdpSocket) {
  LoopbackSocket tcp(SOCK_STREAM);
  LoopbackSocket udp(SOCK_DGRAM);
  ASSERT_NE(tcp.port(), 0);
  ASSERT_NE(udp.port(), 0);

  auto source = MakeListenerSource({});
  EXPECT_EQ(source->Backend(), "iphlpapi");
  auto sample = SampleUntil(*source, [&](const auto& s) {
    return !On(s, Proto::kTcp, tcp.port()).empty() && !On(s, Proto::kUdp, udp.port()).empty();
  });

  auto tcp_rows = On(sample, Proto::kTcp, tcp.port());
  ASSERT_EQ(tcp_rows.size(), 1u);
  EXPECT_EQ(tcp_rows[0].socket.family, Family::kIpv4);
  EXPECT_EQ(tcp_rows[0].socket.address, "127.0.0.1");
  auto udp_rows = On(sample, Proto::kUdp, udp.port());
  ASSERT_EQ(udp_rows.size(), 1u);
  EXPECT_EQ(udp_rows[0].socket.family, Family::kIpv4);
  EXPECT_EQ(udp_rows[0].socket.address, "127.0.0.1");

  ExpectOwner(OwnerOf(sample, Proto::kTcp, "127.0.0.1", tcp.port()), GetCurrentProcessId(),
              OwnerKind::kProcess);
  ExpectOwner(OwnerOf(sample, Proto::kUdp, "127.0.0.1", udp.port()), GetCurrentProcessId(),
              OwnerKind::kProcess);

  // Every Sample() reads the tables afresh: closed sockets leave the next samples.
  const uint16_t tcp_port = tcp.port(), udp_port = udp.port();
  tcp.Close();
  udp.Close();
  sample = SampleUntil(*source, [&](const auto& s) {
    return On(s, Proto::kTcp, tcp_port).empty() && On(s, Proto::kUdp, udp_port).empty();
  });
  EXPECT_TRUE(On(sample, Proto::kTcp, tcp_port).empty());
  EXPECT_TRUE(On(sample, Proto::kUdp, udp_port).empty());
}

/// A request queue of the HTTP Server API v1 (what IIS, WinRM and WCF register URLs
/// through). Released on destruction.
class HttpQueue {
 public:
  HttpQueue() {
    initialized_ = HttpInitialize(HTTPAPI_VERSION_1, HTTP_INITIALIZE_SERVER, nullptr) == NO_ERROR;
    EXPECT_TRUE(initialized_);
    EXPECT_EQ(HttpCreateHttpHandle(&queue_, 0), static_cast<ULONG>(NO_ERROR));
  }
  ~HttpQueue() {
    Close();
    if (initialized_) HttpTerminate(HTTP_INITIALIZE_SERVER, nullptr);
  }
  HttpQueue(const HttpQueue&) = delete;
  HttpQueue& operator=(const HttpQueue&) = delete;

  /// Registers http://127.0.0.1:<port>/portwarden-test/ on a port that was free a moment
  /// ago (HTTP.sys has no "port 0"); another port if someone took it meanwhile. Returns the
  /// port, 0 on failure.
  uint16_t AddUrlOnFreePort() {
    for (int attempt = 0; attempt < 10; ++attempt) {
      uint16_t port = FreeTcpPort();
      if (port == 0) return 0;
      std::wstring url = L"http://127.0.0.1:" + std::to_wstring(port) + L"/portwarden-test/";
      ULONG rc = HttpAddUrl(queue_, url.c_str(), nullptr);
      if (rc == NO_ERROR) return port;
      if (rc != ERROR_SHARING_VIOLATION && rc != ERROR_ALREADY_EXISTS) {
        ADD_FAILURE() << "HttpAddUrl failed: " << rc;
        return 0;
      }
    }
    ADD_FAILURE() << "HttpAddUrl: every port tried was taken";
    return 0;
  }

  /// Closes the queue, which releases its URLs; HTTP.sys then stops listening on a port no
  /// URL uses any more. (HttpRemoveUrl would do for Windows, but Wine 8's http.sys keeps the
  /// socket until a queue closes.)
  void Close() {
    if (queue_ != nullptr) CloseHandle(queue_);
    queue_ = nullptr;
  }

 private:
  static uint16_t FreeTcpPort() {
    LoopbackSocket probe(SOCK_STREAM);
    return probe.port();
  }

  bool initialized_ = false;
  HANDLE queue_ = nullptr;
};

TEST_F(WindowsSourceTest, ReportsHttpSysListenerForRegisteredUrl) {
  HttpQueue queue;
  const uint16_t port = queue.AddUrlOnFreePort();
  ASSERT_NE(port, 0);

  auto source = MakeListenerSource({});
  auto sample = SampleUntil(*source, [&](const auto& s) {
    for (const auto& row : On(s, Proto::kTcp, port)) {
      if (row.socket.family == Family::kIpv4) return true;
    }
    return false;
  });

  // The socket is HTTP.sys's, not ours: it binds the wildcard address for a URL on any host
  // (real HTTP.sys with an empty IP listen list, and Wine's http.sys always).
  const OwnedSocket* v4 = nullptr;
  auto rows = On(sample, Proto::kTcp, port);
  for (const auto& row : rows) {
    if (row.socket.family == Family::kIpv4) v4 = &row;
  }
  ASSERT_NE(v4, nullptr) << "no IPv4 TCP listener on the registered port " << port;
  EXPECT_EQ(v4->socket.address, "0.0.0.0");
  ExpectOwner(OwnerOf(sample, Proto::kTcp, "0.0.0.0", port), kSystemPid, OwnerKind::kKernel);

  queue.Close();
  sample = SampleUntil(*source, [&](const auto& s) { return On(s, Proto::kTcp, port).empty(); });
  EXPECT_TRUE(On(sample, Proto::kTcp, port).empty())
      << "HTTP.sys still listens on " << port << " after the only queue using it closed";
}

}  // namespace
}  // namespace portwarden
