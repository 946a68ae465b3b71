// Faults the listener collector must survive: netlink refused by the kernel (the real
// binary under a seccomp filter), /proc entries vanishing in the middle of a scan (a fake
// proc tree mutated between and during samples), and real processes exiting while sampled.
// Permission denied is covered by security_test (portwarden as nobody without capabilities),
// a broken config on reload by policy_e2e_test.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "collectors/listeners/source.h"
#include "tests/support/test_support.h"

namespace portwarden::testing {
namespace {

namespace fs = std::filesystem;

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#endif

/// portwarden started with every socket(AF_NETLINK, ...) failing with EAFNOSUPPORT, as on a
/// kernel without sock_diag or in a sandbox that forbids netlink.
class NoNetlinkDaemon {
 public:
  NoNetlinkDaemon() {
    int err[2];
    if (pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(err[1], 2);
      sock_filter filter[] = {
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EAFNOSUPPORT & SECCOMP_RET_DATA)),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      };
      sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
          prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        _exit(126);
      }
      const std::string binary = PortwardenBinary();
      const char* argv[] = {binary.c_str(), "--web.listen-address=127.0.0.1:0",
                            "--collect.interval=200ms", nullptr};
      execv(argv[0], const_cast<char* const*>(argv));
      _exit(127);
    }
    close(err[1]);
    err_fd_ = err[0];
    fcntl(err_fd_, F_SETFL, O_NONBLOCK);
    PollUntil([&] { return (port_ = ListenPortFromLog(Stderr())) != 0; });
  }
  ~NoNetlinkDaemon() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) close(err_fd_);
  }
  int port() const { return port_; }
  const std::string& Stderr() {
    char buf[4096];
    ssize_t n;
    while ((n = read(err_fd_, buf, sizeof buf)) > 0) err_.append(buf, size_t(n));
    return err_;
  }

 private:
  int pid_ = -1;
  int err_fd_ = -1;
  int port_ = 0;
  std::string err_;
};

TEST(Fault, NetlinkRefusedFallsBackToProcNet) {
#if !defined(__x86_64__) && !defined(__aarch64__)
  GTEST_SKIP() << "seccomp filter written for x86-64 and arm64 only";
#else
  TcpListener mine;
  NoNetlinkDaemon d;
  ASSERT_NE(d.port(), 0) << d.Stderr();
  const std::string own = "port=\"" + std::to_string(mine.port()) + "\",pid=\"" +
                          std::to_string(getpid()) + "\",kind=\"process\",process=\"fault_test\"";
  std::string body;
  ASSERT_TRUE(PollUntil([&] {
    body = HttpGet("127.0.0.1", d.port(), "/metrics").body;
    return body.find(own) != std::string::npos;
  })) << body << d.Stderr();
  EXPECT_NE(body.find("portwarden_listener_source_info{backend=\"procfs\"} 1"), std::string::npos)
      << body;
  EXPECT_NE(body.find("portwarden_collector_success{collector=\"listeners\"} 1"),
            std::string::npos);
#endif
}

/// A fake procfs: /net/tcp with listening sockets, and processes holding them through
/// fd links "socket:[inode]" (readlink works on dangling symlinks, like the real ones).
class FakeProc {
 public:
  FakeProc() {
    std::string dir = "/tmp/portwarden-fakeproc-XXXXXX";
    root_ = mkdtemp(dir.data()) ? dir : "";
    fs::create_directories(root_ + "/net");
    std::ofstream(root_ + "/net/udp") << kHeader;
    std::string tcp = kHeader;
    for (int i = 0; i < kSockets; ++i) {
      // 127.0.0.1:(8000+i), state 0A (LISTEN), inode 1000+i.
      char line[256];
      std::snprintf(line, sizeof line,
                    "   %d: 0100007F:%04X 00000000:0000 0A 00000000:00000000 00:00000000 "
                    "00000000     0        0 %d 1 0000000000000000 100 0 0 10 0\n",
                    i, 8000 + i, 1000 + i);
      tcp += line;
    }
    std::ofstream(root_ + "/net/tcp") << tcp;
  }
  ~FakeProc() { fs::remove_all(root_); }

  static constexpr int kSockets = 8;
  const std::string& root() const { return root_; }

  /// A process `pid` holding socket i (inode 1000+i), optionally without its stat or status.
  void AddProcess(int pid, int i, bool stat = true, bool status = true) const {
    const std::string dir = root_ + "/" + std::to_string(pid);
    fs::create_directories(dir + "/fd");
    std::error_code ec;
    fs::create_symlink("socket:[" + std::to_string(1000 + i) + "]", dir + "/fd/3", ec);
    fs::create_symlink("/dev/null", dir + "/fd/0", ec);
    if (stat) {
      std::ofstream(dir + "/stat") << pid << " (fake-" << i
                                   << ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " << 100 + pid
                                   << " 0 0\n";
    }
    if (status) std::ofstream(dir + "/status") << "Name:\tfake\nUid:\t0\t0\t0\t0\n";
    std::ofstream(dir + "/cgroup") << "0::/system.slice/fake.service\n";
  }
  void RemoveProcess(int pid) const {
    std::error_code ec;
    fs::remove_all(root_ + "/" + std::to_string(pid), ec);
  }
  void RemoveFile(int pid, const std::string& name) const {
    fs::remove(root_ + "/" + std::to_string(pid) + "/" + name);
  }

 private:
  static constexpr const char* kHeader =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n";
  std::string root_;
};

const OwnedSocket* FindPort(const std::vector<OwnedSocket>& all, int port) {
  for (const auto& s : all) {
    if (s.socket.proto == Proto::kTcp && s.socket.port == port) return &s;
  }
  return nullptr;
}

TEST(Fault, ProcEntriesVanishingBetweenScans) {
  FakeProc proc;
  proc.AddProcess(100, 0);
  proc.AddProcess(101, 1);
  proc.AddProcess(102, 2);
  auto source = MakeListenerSource({.proc_root = proc.root(), .use_netlink = false});
  auto first = source->Sample();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ((*first)->size(), size_t(FakeProc::kSockets));
  ASSERT_EQ(FindPort(**first, 8000)->holders.size(), 1u);
  EXPECT_EQ(FindPort(**first, 8000)->holders[0]->name, "fake-0");
  EXPECT_EQ(FindPort(**first, 8000)->holders[0]->service, "fake.service");

  // 100 exits, 101 is caught half gone (fd links still there, stat already removed),
  // 102 loses its status file: no error, their sockets stay, unattributed where unreadable.
  proc.RemoveProcess(100);
  proc.RemoveFile(101, "stat");
  proc.RemoveFile(102, "status");
  auto second = source->Sample();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ((*second)->size(), size_t(FakeProc::kSockets));
  EXPECT_TRUE(FindPort(**second, 8000)->holders.empty());
  EXPECT_TRUE(FindPort(**second, 8001)->holders.empty());
  ASSERT_EQ(FindPort(**second, 8002)->holders.size(), 1u);
  EXPECT_EQ(FindPort(**second, 8002)->holders[0]->name, "fake-2");

  // The PID is reused by another process holding the same socket (an fd passed on).
  proc.AddProcess(100, 0);
  auto third = source->Sample();
  ASSERT_TRUE(third) << third.error().message;
  ASSERT_EQ(FindPort(**third, 8000)->holders.size(), 1u);

  // The socket table itself vanishing is an error naming it, not a crash.
  fs::remove(proc.root() + "/net/tcp");
  auto gone = source->Sample();
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find(proc.root() + "/net/tcp"), std::string::npos)
      << gone.error().message;
}

/// Runs `body` on a thread until destroyed (also when an assertion returns early).
class Background {
 public:
  explicit Background(std::function<void()> body)
      : thread_([this, body = std::move(body)] {
          while (!stop_.load()) body();
        }) {}
  ~Background() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(Fault, ProcEntriesVanishingDuringScans) {
  FakeProc proc;
  auto source = MakeListenerSource({.proc_root = proc.root(), .use_netlink = false});
  // A mutator creates and deletes processes (and single files of them) as fast as it can
  // while samples run; every sample must succeed and list every socket.
  Background mutator([&] {
    for (int i = 0; i < FakeProc::kSockets; ++i) proc.AddProcess(200 + i, i);
    for (int i = 0; i < FakeProc::kSockets; i += 2) proc.RemoveFile(200 + i, "stat");
    for (int i = 0; i < FakeProc::kSockets; ++i) proc.RemoveProcess(200 + i);
  });
  // At least 300 samples, and more until one caught a process between its creation and
  // removal (a starved mutator could leave the first 300 all empty): the owners found under
  // churn are checked, not only the absence of errors.
  int attributed = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int n = 0; n < 300 || (attributed == 0 && std::chrono::steady_clock::now() < deadline);
       ++n) {
    auto sample = source->Sample();
    ASSERT_TRUE(sample) << sample.error().message;
    ASSERT_EQ((*sample)->size(), size_t(FakeProc::kSockets));
    for (const auto& s : **sample) {
      attributed += !s.holders.empty();
      // Process 200+i holds socket i (port 8000+i) and nothing else: never a wrong owner.
      for (const auto& p : s.holders) {
        EXPECT_EQ(p->pid, uint32_t(200 + s.socket.port - 8000)) << "port " << s.socket.port;
      }
    }
  }
  RecordProperty("attributed_sockets_seen", attributed);
  EXPECT_GT(attributed, 0) << "no sample in 60 s saw a process of the mutator";
}

TEST(Fault, RealProcessesExitingWhileSampled) {
  TcpListener mine;
  auto source = MakeListenerSource({});
  // Each child is forked, listens, and is killed and reaped at the end of the iteration.
  // Forked without exec, it also holds a copy of `mine` while it lives.
  Background churn([] { ListenerProcess short_lived("pw-churn", "127.0.0.1", 0); });
  for (int n = 0; n < 50; ++n) {
    auto sample = source->Sample();
    ASSERT_TRUE(sample) << sample.error().message;
    const OwnedSocket* own = FindPort(**sample, mine.port());
    ASSERT_NE(own, nullptr);
    bool ours = false;
    for (const auto& p : own->holders) ours = ours || p->pid == uint32_t(getpid());
    EXPECT_TRUE(ours) << "sample " << n;
  }
}

}  // namespace
}  // namespace portwarden::testing
