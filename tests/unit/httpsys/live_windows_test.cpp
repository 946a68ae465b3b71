// Live: a URL this process registers with HttpAddUrl, found by the real listener source and
// run through HTTP.sys attribution and the whole collection (CollectSnapshot with this
// platform's collector list). On Windows the port belongs to PID 4 and is attributed to this
// process's request queue. Under Wine, http.sys binds the port too, but the socket table
// reports PID 0 (no owner), Wine does not implement HttpQueryServiceConfiguration and its
// netsh has no `http` context: the test asserts exactly that, so a Wine that learns more
// shows up here.
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <http.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "collectors/httpsys/collector.h"
#include "collectors/httpsys/derive.h"
#include "collectors/listeners/source.h"
#include "exporter/collect.h"

namespace portwarden {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

bool UnderWine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

/// A request queue of this process with one URL, http://+:<port>/portwarden-httpsys-test/,
/// on a port that was free a moment ago. Released on destruction.
class RegisteredUrl {
 public:
  RegisteredUrl() {
    WSADATA wsa;
    EXPECT_EQ(WSAStartup(MAKEWORD(2, 2), &wsa), 0);
    initialized_ = HttpInitialize(HTTPAPI_VERSION_1, HTTP_INITIALIZE_SERVER, nullptr) == NO_ERROR;
    EXPECT_TRUE(initialized_) << "HttpInitialize";
    EXPECT_EQ(HttpCreateHttpHandle(&queue_, 0), static_cast<ULONG>(NO_ERROR));
    for (int attempt = 0; attempt < 10 && port_ == 0; ++attempt) {
      uint16_t port = FreePort();
      std::wstring url = L"http://+:" + std::to_wstring(port) + L"/portwarden-httpsys-test/";
      ULONG rc = HttpAddUrl(queue_, url.c_str(), nullptr);
      if (rc == NO_ERROR) port_ = port;
      // Taken meanwhile: another port. Anything else is a failure.
      if (rc != NO_ERROR && rc != ERROR_SHARING_VIOLATION && rc != ERROR_ALREADY_EXISTS) {
        ADD_FAILURE() << "HttpAddUrl failed: " << rc;
        break;
      }
    }
  }
  ~RegisteredUrl() {
    if (queue_ != nullptr) CloseHandle(queue_);
    if (initialized_) HttpTerminate(HTTP_INITIALIZE_SERVER, nullptr);
    WSACleanup();
  }
  RegisteredUrl(const RegisteredUrl&) = delete;
  RegisteredUrl& operator=(const RegisteredUrl&) = delete;

  uint16_t port() const { return port_; }
  /// As netsh lists it under the queue.
  std::string NetshUrl() const {
    return "HTTP://+:" + std::to_string(port_) + "/PORTWARDEN-HTTPSYS-TEST/";
  }

 private:
  static uint16_t FreePort() {
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    int len = sizeof addr;
    bind(s, reinterpret_cast<sockaddr*>(&addr), len);
    getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    closesocket(s);
    return ntohs(addr.sin_port);
  }

  bool initialized_ = false;
  HANDLE queue_ = nullptr;
  uint16_t port_ = 0;
};

/// How long a live test waits for HTTP.sys's bind to show. Generous: under Wine one sample of
/// the socket table reads the host's whole table through wineserver, which takes long on a
/// busy machine.
constexpr auto kBindDeadline = 180s;

/// The listeners on 0.0.0.0:`port`, sampled until one shows up or the deadline passes (the
/// bind happens in http.sys, which need not be done when HttpAddUrl returns).
std::vector<Listener> WildcardListeners(ListenerSource& source, uint16_t port) {
  const auto deadline = std::chrono::steady_clock::now() + kBindDeadline;
  for (;;) {
    auto sample = source.Sample();
    EXPECT_TRUE(sample.ok()) << (sample ? "" : sample.error().message);
    std::vector<Listener> found;
    if (sample) {
      for (Listener& l : BuildListeners(**sample, {}).listeners) {
        if (l.proto == Proto::kTcp && l.port == port && l.address == "0.0.0.0") {
          found.push_back(std::move(l));
        }
      }
    }
    if (!found.empty() || std::chrono::steady_clock::now() >= deadline) return found;
    std::this_thread::sleep_for(20ms);
  }
}

TEST(HttpSysLive, HttpAddUrlBoundPortIsAttributed) {
  RegisteredUrl url;
  ASSERT_NE(url.port(), 0);
  auto source = MakeListenerSource({});
  std::vector<Listener> listeners = WildcardListeners(*source, url.port());
  ASSERT_EQ(listeners.size(), 1u) << "HTTP.sys did not bind 0.0.0.0:" << url.port();

  // The queue as netsh would list it: this process, this URL.
  httpsys::RequestQueue queue;
  queue.version = "1.0";
  queue.processes.push_back({GetCurrentProcessId(), "", {}});
  queue.urls.push_back(url.NetshUrl());
  const size_t attributed = httpsys::AttributeHttpSysListeners(listeners, {queue}, {});
  const Owner& owner = listeners[0].owner;
  if (UnderWine()) {
    // PID 0 in the socket table: no owner, and never guessed to be HTTP.sys.
    EXPECT_EQ(attributed, 0u);
    EXPECT_EQ(owner.kind, OwnerKind::kUnknown);
    EXPECT_TRUE(owner.holders.empty());
  } else {
    EXPECT_EQ(attributed, 1u);
    EXPECT_EQ(owner.kind, OwnerKind::kHttpSys);
    EXPECT_EQ(owner.main().pid, 4u);
    ASSERT_EQ(owner.holders.size(), 2u);
    EXPECT_EQ(owner.holders[1]->pid, GetCurrentProcessId());
  }
}

TEST(HttpSysLive, WholeCollectionOnThisPlatform) {
  RegisteredUrl url;
  ASSERT_NE(url.port(), 0);
  auto source = MakeListenerSource({});
  // Collected until the bind shows (see WildcardListeners).
  const auto deadline = std::chrono::steady_clock::now() + kBindDeadline;
  Snapshot snap;
  const Listener* ours = nullptr;
  for (;;) {
    snap = CollectSnapshot(*source, Config{});
    for (const Listener& l : snap.listeners->listeners) {
      if (l.proto == Proto::kTcp && l.port == url.port() && l.address == "0.0.0.0") ours = &l;
    }
    if (ours != nullptr || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_NE(ours, nullptr) << "HTTP.sys did not bind 0.0.0.0:" << url.port();

  std::map<std::string, const CollectorStatus*> status;
  for (const auto& c : snap.collectors) status[c.name] = &c;
  for (auto name : {"listeners", "httpsys_iplisten", "httpsys_urlacl", "httpsys_sslcert",
                    "httpsys_registry", "httpsys_requestq", "httpsys_excludedportrange"}) {
    ASSERT_TRUE(status.count(name)) << name;
  }
  EXPECT_TRUE(status["listeners"]->success) << status["listeners"]->error;
  EXPECT_TRUE(status["httpsys_registry"]->success) << status["httpsys_registry"]->error;
  EXPECT_TRUE(snap.httpsys.iplisten_registry.has_value());
  if (UnderWine()) {
    // Wine answers every query ERROR_FILE_NOT_FOUND (0x2): read as "no listen list" for the
    // list, an error for the enumerations.
    EXPECT_TRUE(status["httpsys_iplisten"]->success);
    EXPECT_EQ(status["httpsys_urlacl"]->error,
              "HttpQueryServiceConfiguration(HttpServiceConfigUrlAclInfo) record 0 failed: "
              "0x00000002");
    EXPECT_THAT(status["httpsys_sslcert"]->error, HasSubstr("0x00000002"));
    // Wine's netsh prints nothing for `http ...` and `int ... excludedportrange`.
    EXPECT_EQ(status["httpsys_requestq"]->error,
              "netsh http show servicestate view=requestq: netsh http show servicestate: "
              "empty input; expected the command's output");
    EXPECT_FALSE(status["httpsys_excludedportrange"]->success);
    EXPECT_EQ(ours->owner.kind, OwnerKind::kUnknown);
  } else {
    for (const auto& [name, s] : status) EXPECT_TRUE(s->success) << name << ": " << s->error;
    EXPECT_EQ(ours->owner.kind, OwnerKind::kHttpSys);
    bool ours_listed = false;
    for (const auto& h : ours->owner.holders) ours_listed |= h->pid == GetCurrentProcessId();
    EXPECT_TRUE(ours_listed);
  }
}

}  // namespace
}  // namespace portwarden
