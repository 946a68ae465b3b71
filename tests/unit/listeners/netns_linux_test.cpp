// Live: network namespaces made by the test with `unshare --net` and `ip netns add`, each
// holding a real listener (port_holder), read back through the Linux source with their
// namespace, its name and their owner; with proc connector events and without. Real port
// proxies (pasta, slirp4netns) publishing a host port into such a namespace are attributed
// to it.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "collectors/listeners/netns.h"
#include "collectors/listeners/proxy.h"
#include "collectors/listeners/source_linux.h"
#include "tests/support/test_support.h"

namespace portwarden {
namespace {

using testing::Child;
using testing::CommandResult;
using testing::PollUntil;
using testing::RunCommand;

std::optional<uint64_t> NetnsOfPid(int pid) {
  char link[64];
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  ssize_t n = readlink(path.c_str(), link, sizeof link);
  if (n <= 0) return std::nullopt;
  return ParseNetnsLink(std::string_view(link, static_cast<size_t>(n)));
}

// An `ip netns` namespace, deleted on destruction.
class NamedNetns {
 public:
  explicit NamedNetns(const std::string& suffix = "")
      : name_("pw-test-" + std::to_string(getpid()) + suffix) {
    RunCommand("ip netns delete " + name_ + " 2>/dev/null");
    ok_ = RunCommand("ip netns add " + name_).status == 0;
  }
  ~NamedNetns() { RunCommand("ip netns delete " + name_); }
  const std::string& name() const { return name_; }
  bool ok() const { return ok_; }

 private:
  std::string name_;
  bool ok_ = false;
};

class NetnsSourceTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "entering namespaces needs root";
    LinuxSourceOptions options;
    options.use_proc_events = GetParam();
    source_ = MakeLinuxListenerSource(options);
    ASSERT_TRUE(source_->Sample());  // the cold cycle, before the namespaces exist
  }

  // Samples until a listener on port in pid's namespace held by pid shows up (or the
  // deadline passes). The namespace is pid's: a child forked by this test holds this
  // test's sockets too until it execs.
  const OwnedSocket* WaitFor(uint16_t port, int pid) {
    const OwnedSocket* found = nullptr;
    PollUntil([&] {
      auto sample = source_->Sample();
      if (!sample) return false;
      last_ = *sample;
      found = Find(port, pid);
      return found != nullptr;
    });
    return found;
  }

  const OwnedSocket* Find(uint16_t port, int pid) const {
    auto netns = NetnsOfPid(pid);
    for (const auto& s : *last_) {
      if (s.socket.port != port || s.socket.netns != netns) continue;
      for (const auto& h : s.holders) {
        if (h->pid == static_cast<uint32_t>(pid)) return &s;
      }
    }
    return nullptr;
  }

  std::unique_ptr<LinuxListenerSource> source_;
  OwnedSockets last_;
};

TEST_P(NetnsSourceTest, SeesAListenerInAnUnsharedNamespace) {
  const int port = testing::FreePort();
  Child holder({"/usr/bin/unshare", "--net", "--", PORTWARDEN_PORT_HOLDER, "0.0.0.0",
                std::to_string(port)});
  // unshare execs the holder in place: the same PID, in a namespace of its own.
  ASSERT_TRUE(PollUntil([&] {
    auto ns = NetnsOfPid(holder.pid());
    return ns && ns != NetnsOfPid(getpid());
  })) << holder.Stderr();
  const uint64_t netns = *NetnsOfPid(holder.pid());
  const OwnedSocket* s = WaitFor(port, holder.pid());
  ASSERT_NE(s, nullptr) << holder.Stderr();
  EXPECT_EQ(s->socket.netns, netns);
  EXPECT_EQ(s->netns_name, "");  // neither host nor named
  EXPECT_EQ(s->socket.address, "0.0.0.0");
  EXPECT_EQ(s->holders.front()->name, "port_holder");
  EXPECT_GE(source_->LastStats().namespaces, 2u);
  const size_t namespaces = source_->LastStats().namespaces;

  // Once its last process is gone the namespace is no longer sampled (and our socket in it
  // is closed, so the kernel can free it).
  holder.Signal(SIGKILL);
  holder.Wait();
  EXPECT_TRUE(PollUntil([&] {
    auto sample = source_->Sample();
    if (!sample) return false;
    last_ = *sample;
    return Find(port, holder.pid()) == nullptr &&
           source_->LastStats().namespaces == namespaces - 1;
  })) << source_->LastStats().namespaces;
}

TEST_P(NetnsSourceTest, NamesIpNetnsNamespacesAndKeepsSamePortApart) {
  NamedNetns named;
  ASSERT_TRUE(named.ok());
  const int port = testing::FreePort();
  // The same port on the host, held by this test process.
  testing::TcpListener host("0.0.0.0", port);
  ASSERT_EQ(host.port(), port);
  ASSERT_NE(WaitFor(port, getpid()), nullptr);
  Child holder({"/usr/sbin/ip", "netns", "exec", named.name(), PORTWARDEN_PORT_HOLDER, "0.0.0.0",
                std::to_string(port)});
  ASSERT_TRUE(PollUntil([&] {
    auto ns = NetnsOfPid(holder.pid());
    return ns && ns != NetnsOfPid(getpid());
  })) << holder.Stderr();
  const OwnedSocket* s = WaitFor(port, holder.pid());
  ASSERT_NE(s, nullptr) << holder.Stderr();
  EXPECT_EQ(s->socket.netns, NetnsOfPid(holder.pid()));
  EXPECT_EQ(s->netns_name, named.name());
  EXPECT_EQ(s->holders.front()->name, "port_holder");
  const OwnedSocket* mine = Find(port, getpid());
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(mine->socket.netns, NetnsOfPid(getpid()));
  EXPECT_NE(mine->socket.netns, s->socket.netns);
  if (NetnsOfPid(1) == NetnsOfPid(getpid())) {
    EXPECT_EQ(mine->netns_name, "host");
  }
}

// A namespace no process is in, held by its bind mount alone, is sampled too (it has no
// listener: the socket shows through an owner found elsewhere, here none).
TEST_P(NetnsSourceTest, SamplesBindMountedNamespacesWithoutProcesses) {
  const size_t before = source_->LastStats().namespaces;
  NamedNetns named;
  ASSERT_TRUE(named.ok());
  EXPECT_TRUE(PollUntil([&] {
    return source_->Sample() && source_->LastStats().namespaces == before + 1;
  })) << source_->LastStats().namespaces;
  EXPECT_EQ(source_->LastStats().namespaces_failed, 0u);
}

// The inode of a namespace's bind mount (/run/netns/NAME).
uint64_t InodeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The holder of this test's port that is pid, once its owner info is read.
const Process* HolderOf(const OwnedSocket* s, int pid) {
  if (!s) return nullptr;
  for (const auto& h : s->holders) {
    if (h->pid == static_cast<uint32_t>(pid)) return h.get();
  }
  return nullptr;
}

// pasta (Debian's passt) publishes a host port into an `ip netns` namespace, as podman's
// rootless network does: the listener is pasta's, forwarding into that namespace.
TEST_P(NetnsSourceTest, PastaPublishedPortForwardsIntoItsNamespace) {
  NamedNetns named;
  ASSERT_TRUE(named.ok());
  const int port = testing::FreePort();
  // As root pasta would switch to nobody; --runas 0 keeps it able to enter the namespace.
  Child pasta({"/usr/bin/pasta", "-q", "-f", "--runas", "0", "-t",
               "127.0.0.1/" + std::to_string(port) + ":80", "-u", "none", "-T", "none", "-U",
               "none", "--config-net", "--netns", named.name()});
  const Process* p = HolderOf(WaitFor(static_cast<uint16_t>(port), pasta.pid()), pasta.pid());
  ASSERT_NE(p, nullptr) << pasta.Stderr();
  EXPECT_TRUE(IsPortProxy(p->name)) << p->name;  // passt.avx2 or passt: pasta execs it
  EXPECT_EQ(p->forwards_netns, InodeOf("/run/netns/" + named.name()));
  EXPECT_NE(p->forwards_netns, 0u);
  EXPECT_EQ(p->container, "");  // a plain namespace, no container's cgroup
}

// slirp4netns serving a namespace by PID, a host port added through its API socket (the
// way podman's port_handler=slirp4netns publishes one).
TEST_P(NetnsSourceTest, Slirp4netnsPublishedPortForwardsIntoItsNamespace) {
  Child sleeper({"/usr/bin/unshare", "--net", "--", "/bin/sleep", "600"});
  ASSERT_TRUE(PollUntil([&] {
    auto ns = NetnsOfPid(sleeper.pid());
    return ns && ns != NetnsOfPid(getpid());
  })) << sleeper.Stderr();
  const std::string api = "/tmp/pw-slirp-" + std::to_string(getpid()) + ".sock";
  unlink(api.c_str());
  Child slirp({"/usr/bin/slirp4netns", "--configure", "--api-socket", api,
               std::to_string(sleeper.pid()), "tap0"});
  const int port = testing::FreePort();
  const std::string request =
      R"({"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", )"
      R"("host_port": )" + std::to_string(port) + R"(, "guest_port": 80}})";
  std::string reply;
  ASSERT_TRUE(PollUntil([&] {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, api.c_str(), sizeof addr.sun_path - 1);
    bool sent = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                write(fd, request.data(), request.size()) == ssize_t(request.size());
    char buf[512];
    ssize_t n = sent ? read(fd, buf, sizeof buf) : -1;
    close(fd);
    if (n > 0) reply.assign(buf, size_t(n));
    return n > 0;
  })) << slirp.Stderr();
  unlink(api.c_str());
  ASSERT_NE(reply.find("\"return\""), std::string::npos) << reply;
  const Process* p = HolderOf(WaitFor(static_cast<uint16_t>(port), slirp.pid()), slirp.pid());
  ASSERT_NE(p, nullptr) << slirp.Stderr();
  EXPECT_EQ(p->name, "slirp4netns");
  EXPECT_EQ(p->forwards_netns, NetnsOfPid(sleeper.pid()));
}

// Docker's docker-proxy (Debian's docker.io 20.10, run alone: no engine) publishing a host
// port for a "container" at an address that a namespace of the test has on its loopback:
// its -container-ip is found in that namespace's addresses (an RTM_GETADDR dump in each).
// docker-proxy reports readiness on fd 3, as dockerd hands it a pipe there.
TEST_P(NetnsSourceTest, DockerProxyPublishedPortForwardsIntoTheNamespaceWithItsAddress) {
  ASSERT_EQ(access(PORTWARDEN_DOCKER_PROXY, X_OK), 0)
      << PORTWARDEN_DOCKER_PROXY << " missing: scripts/install-deps.sh puts it there";
  NamedNetns container("-docker");
  ASSERT_TRUE(container.ok());
  const std::string in = "ip netns exec " + container.name() + " ";
  CommandResult setup =
      RunCommand(in + "ip link set lo up && " + in + "ip addr add 10.213.0.3/32 dev lo");
  ASSERT_EQ(setup.status, 0) << setup.output;
  const int port = testing::FreePort();
  const std::string ready = "/tmp/pw-docker-proxy-" + std::to_string(getpid());
  Child proxy({"/bin/sh", "-c",
               std::string("exec ") + PORTWARDEN_DOCKER_PROXY + " -proto tcp -host-ip 127.0.0.1 " +
                   "-host-port " + std::to_string(port) +
                   " -container-ip 10.213.0.3 -container-port 80 3>" + ready});
  const Process* p = HolderOf(WaitFor(static_cast<uint16_t>(port), proxy.pid()), proxy.pid());
  ASSERT_NE(p, nullptr) << proxy.Stderr();
  EXPECT_EQ(p->name, "docker-proxy");
  EXPECT_EQ(p->forwards_netns, InodeOf("/run/netns/" + container.name()));
  EXPECT_NE(p->forwards_netns, 0u);
  unlink(ready.c_str());
}

// Debian's rootlessport (podman's port handler for rootless containers) publishing a host
// port into a named namespace: its configuration comes on stdin as podman sends it (the
// JSON of rootlessport.Config), its exit and ready pipes on fds 3 and 4. It keeps the
// namespace's file open (its child runs inside); the port is attributed from that.
TEST_P(NetnsSourceTest, RootlessportPublishedPortForwardsIntoItsNamespace) {
  constexpr const char* kRootlessport = "/usr/lib/podman/rootlessport";
  ASSERT_EQ(access(kRootlessport, X_OK), 0) << kRootlessport << ": scripts/install-deps.sh installs podman";
  NamedNetns named;
  ASSERT_TRUE(named.ok());
  const int port = testing::FreePort();
  const std::string dir = "/tmp/pw-rootlessport-" + std::to_string(getpid());
  RunCommand("rm -rf " + dir + " && mkdir -p " + dir + " && mkfifo " + dir + "/exit");
  std::ofstream(dir + "/config.json")
      << R"({"Mappings": [{"host_ip": "127.0.0.1", "container_port": 80, "host_port": )" << port
      << R"(, "range": 1, "protocol": "tcp"}], "NetNSPath": "/run/netns/)" << named.name()
      << R"(", "ExitFD": 3, "ReadyFD": 4, "TmpDir": ")" << dir
      << R"(", "ChildIP": "127.0.0.1", "ContainerID": "pw"})";
  // Held open for writing (O_RDWR does not wait for a reader): it exits when this closes.
  int exit_fd = open((dir + "/exit").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(exit_fd, 0);
  {
    Child rootlessport({"/bin/sh", "-c", std::string("exec ") + kRootlessport + " <" + dir +
                                             "/config.json 3<" + dir + "/exit 4>" + dir + "/ready"});
    const Process* p =
        HolderOf(WaitFor(static_cast<uint16_t>(port), rootlessport.pid()), rootlessport.pid());
    ASSERT_NE(p, nullptr) << rootlessport.Stderr();
    EXPECT_EQ(p->name, "rootlessport");
    EXPECT_EQ(p->forwards_netns, InodeOf("/run/netns/" + named.name()));
    EXPECT_NE(p->forwards_netns, 0u);
    close(exit_fd);
    EXPECT_EQ(rootlessport.Wait(), 0) << rootlessport.Stderr();
  }
  RunCommand("rm -rf " + dir);
}

// A port published by a DNAT rule alone (no socket on the front side): nft's native `dnat
// to` in one namespace, the server listening on the target address in another. The
// listener of kind nat is held by that server; deleting the rule (a new ruleset
// generation) removes it.
TEST_P(NetnsSourceTest, DnatRuleForwardsAPortToTheServerInAnotherNamespace) {
  constexpr const char* kNft = "/usr/sbin/nft";
  ASSERT_EQ(access(kNft, X_OK), 0) << kNft << ": scripts/install-deps.sh installs nftables";
  NamedNetns front("-front"), back("-back");
  ASSERT_TRUE(front.ok() && back.ok());
  const std::string in_back = "ip netns exec " + back.name() + " ";
  const std::string in_front = "ip netns exec " + front.name() + " ";
  // The target address on the back namespace's loopback (no dummy or veth module needed).
  CommandResult setup = RunCommand(in_back + "ip link set lo up && " + in_back +
                                   "ip addr add 10.213.0.2/32 dev lo");
  ASSERT_EQ(setup.status, 0) << setup.output;
  Child server({"/usr/sbin/ip", "netns", "exec", back.name(), PORTWARDEN_PORT_HOLDER,
                "10.213.0.2", "80"});
  const int port = testing::FreePort();
  CommandResult rule = RunCommand(
      in_front + "nft add table ip pw && " + in_front +
      "nft add chain ip pw pre '{ type nat hook prerouting priority -100; }' && " + in_front +
      "nft add rule ip pw pre tcp dport " + std::to_string(port) + " dnat to 10.213.0.2:80");
  ASSERT_EQ(rule.status, 0) << rule.output;
  const uint64_t front_ns = InodeOf("/run/netns/" + front.name());
  auto nat = [&]() -> const OwnedSocket* {
    for (const auto& s : *last_) {
      if (s.kind == OwnerKind::kNat && s.socket.netns == front_ns && s.socket.port == port) return &s;
    }
    return nullptr;
  };
  const OwnedSocket* found = nullptr;
  ASSERT_TRUE(PollUntil([&] {
    auto sample = source_->Sample();
    if (!sample) return false;
    last_ = *sample;
    found = nat();
    return found && !found->holders.empty();
  })) << server.Stderr() << (found ? " forwards to " + found->forwards_to : " no nat socket");
  EXPECT_EQ(found->socket.address, "0.0.0.0");
  EXPECT_EQ(found->socket.proto, Proto::kTcp);
  EXPECT_EQ(found->forwards_to, "10.213.0.2:80");
  EXPECT_EQ(found->netns_name, front.name());
  EXPECT_EQ(found->holders.at(0)->pid, static_cast<uint32_t>(server.pid()));
  EXPECT_EQ(found->holders.at(0)->name, "port_holder");

  ASSERT_EQ(RunCommand(in_front + "nft delete table ip pw").status, 0);
  EXPECT_TRUE(PollUntil([&] {
    auto sample = source_->Sample();
    if (!sample) return false;
    last_ = *sample;
    return nat() == nullptr;
  }));
}

INSTANTIATE_TEST_SUITE_P(Events, NetnsSourceTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "events" : "fallback"; });

}  // namespace
}  // namespace portwarden
