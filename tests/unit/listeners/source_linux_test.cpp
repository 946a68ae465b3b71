// Live: real sockets in this process and a forked child, read back through the OS layer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "collectors/listeners/source.h"

namespace portwarden {
namespace {

// Binds a socket of the given type to loopback port 0 and returns (fd, port).
std::pair<int, uint16_t> Bind(int family, int type) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(listen(fd, 8), 0);
  }
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len), 0);
  uint16_t port = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                    : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return {fd, port};
}

const OwnedSocket* Find(const std::vector<OwnedSocket>& all, Proto proto, const char* addr,
                        uint16_t port) {
  for (const auto& s : all) {
    if (s.socket.proto == proto && s.socket.address == addr && s.socket.port == port) return &s;
  }
  return nullptr;
}

class LinuxSourceTest : public ::testing::TestWithParam<bool> {};

TEST_P(LinuxSourceTest, FindsOwnListenersAndForkedHolder) {
  auto [shared_fd, shared_port] = Bind(AF_INET, SOCK_STREAM);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  // The child inherits shared_fd (no exec, so CLOEXEC does not matter) and names itself.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_NAME, "pw-holder");
    char c = 'x';
    (void)!write(ready[1], &c, 1);
    pause();
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);

  auto [tcp6_fd, tcp6_port] = Bind(AF_INET6, SOCK_STREAM);
  auto [udp4_fd, udp4_port] = Bind(AF_INET, SOCK_DGRAM);
  auto [udp6_fd, udp6_port] = Bind(AF_INET6, SOCK_DGRAM);

  SourceOptions options;
  options.use_netlink = GetParam();
  auto source = MakeListenerSource(options);
  auto sample = source->Sample();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(sample) << sample.error().message;
  EXPECT_EQ(source->Backend(), GetParam() ? "netlink" : "procfs");

  const uint32_t self = static_cast<uint32_t>(getpid());
  for (auto [proto, addr, port] : {std::tuple{Proto::kTcp, "::1", tcp6_port},
                                   std::tuple{Proto::kUdp, "127.0.0.1", udp4_port},
                                   std::tuple{Proto::kUdp, "::1", udp6_port}}) {
    const OwnedSocket* s = Find(**sample, proto, addr, port);
    ASSERT_NE(s, nullptr) << addr << ":" << port;
    ASSERT_EQ(s->holders.size(), 1u) << addr << ":" << port;
    EXPECT_EQ(s->holders[0]->pid, self);
    EXPECT_EQ(s->holders[0]->name, "listeners_linux");  // comm is cut at 15 chars
    EXPECT_FALSE(s->holders[0]->exe.empty());
    EXPECT_FALSE(s->holders[0]->user.empty());
  }
  const OwnedSocket* shared = Find(**sample, Proto::kTcp, "127.0.0.1", shared_port);
  ASSERT_NE(shared, nullptr);
  ASSERT_EQ(shared->holders.size(), 2u);
  bool saw_self = false, saw_child = false;
  for (const auto& h : shared->holders) {
    saw_self |= h->pid == self;
    saw_child |= h->pid == static_cast<uint32_t>(child) && h->name == "pw-holder" && h->ppid == self;
  }
  EXPECT_TRUE(saw_self);
  EXPECT_TRUE(saw_child);

  for (int fd : {shared_fd, tcp6_fd, udp4_fd, udp6_fd, ready[0], ready[1]}) close(fd);
}

INSTANTIATE_TEST_SUITE_P(Backends, LinuxSourceTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "netlink" : "procfs"; });

}  // namespace
}  // namespace portwarden
