// Live: the Linux source across cycles, each state compared with `ss -ltnup` taken right
// after the cycle: a fork after the first cycle, exec, exit, PID reuse, a socket handed
// over with SCM_RIGHTS, a holder closing its copy, a new listener in an idle process.
// Every test runs with proc connector events and without (the fallback).
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>

#include "collectors/listeners/procfs.h"
#include "collectors/listeners/source_linux.h"
#include "tests/support/poll.h"

namespace portwarden {
namespace {

// A close-on-exec TCP listener on loopback, port chosen by the kernel.
int Listen(bool v6) {
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  }
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 8) != 0) {
    return -1;
  }
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                 : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// A child process that obeys one-line commands over a SOCK_SEQPACKET pair:
//   "close N"  close fd N               "recv"    take the fd passed with the command
//   "listen"   open a TCP listener, answer "PORT FD"
//   "exec N"   become /bin/sleep, keeping fd N (every other fd of the test is CLOEXEC)
class Helper {
 public:
  // Forks a child named `name`; with want_pid > 0 creates it with exactly that PID
  // (clone3 set_tid, needs CAP_CHECKPOINT_RESTORE); with uid >= 0 it switches to that
  // user. On failure returns null, errno set.
  static std::unique_ptr<Helper> Start(const std::string& name, pid_t want_pid = 0, int uid = -1) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return nullptr;
    pid_t pid;
    if (want_pid > 0) {
      struct {  // struct clone_args up to set_tid_size (CLONE_ARGS_SIZE_VER1)
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
            set_tid_size;
      } args{};
      pid_t tid = want_pid;
      args.exit_signal = SIGCHLD;
      args.set_tid = reinterpret_cast<uint64_t>(&tid);
      args.set_tid_size = 1;
      pid = static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof args));
    } else {
      pid = fork();
    }
    if (pid < 0) {
      int saved = errno;
      close(sv[0]);
      close(sv[1]);
      errno = saved;
      return nullptr;
    }
    if (pid == 0) {
      close(sv[0]);
      if (uid >= 0 && setresuid(uid, uid, uid) != 0) _exit(1);
      Serve(sv[1], name);
    }
    close(sv[1]);
    std::unique_ptr<Helper> helper(new Helper(pid, sv[0]));
    // Ready once it has its name: a cycle before that would see the test's name.
    if (helper->Receive() != "ready") return nullptr;
    return helper;
  }

  ~Helper() {
    Kill();
    close(sock_);
  }
  pid_t pid() const { return pid_; }

  // Sends a command (with pass_fd attached if >= 0) and waits up to 60 s for the answer.
  std::string Ask(const std::string& command, int pass_fd = -1) {
    iovec iov{const_cast<char*>(command.data()), command.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (pass_fd >= 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    if (sendmsg(sock_, &msg, MSG_NOSIGNAL) < 0) return "";
    return Receive();
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

 private:
  Helper(pid_t pid, int sock) : pid_(pid), sock_(sock) {
    timeval tv{60, 0};
    setsockopt(sock_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  std::string Receive() {
    char buf[128];
    ssize_t n = recv(sock_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, size_t(n)) : "";
  }

  [[noreturn]] static void Serve(int sock, const std::string& name) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, name.c_str());
    send(sock, "ready", 5, MSG_NOSIGNAL);
    for (;;) {
      char buf[128];
      iovec iov{buf, sizeof buf - 1};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = recvmsg(sock, &msg, 0);
      if (n <= 0) _exit(0);
      buf[n] = '\0';
      std::string reply = "ok";
      if (std::strncmp(buf, "close ", 6) == 0) {
        close(std::atoi(buf + 6));
      } else if (std::strcmp(buf, "recv") == 0) {
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        int fd = -1;
        if (c && c->cmsg_type == SCM_RIGHTS) std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
        reply = std::to_string(fd);
      } else if (std::strcmp(buf, "listen") == 0) {
        int fd = Listen(false);
        reply = std::to_string(PortOf(fd)) + " " + std::to_string(fd);
      } else if (std::strncmp(buf, "exec ", 5) == 0) {
        fcntl(std::atoi(buf + 5), F_SETFD, 0);
        send(sock, reply.data(), reply.size(), MSG_NOSIGNAL);
        execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
        _exit(127);
      }
      send(sock, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }

  pid_t pid_;
  int sock_;
};

// (proto, address, port) -> holders as pid -> process name.
using Key = std::tuple<std::string, std::string, uint16_t>;
using State = std::map<Key, std::map<uint32_t, std::string>>;

// The truth: `ss -Hltnup`, restricted to the given ports.
State SsState(const std::set<uint16_t>& ports) {
  State state;
  FILE* p = popen("ss -Hltnup 2>/dev/null", "r");
  if (!p) return state;
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  static const std::regex user_re("\\(\"([^\"]*)\",pid=(\\d+),fd=\\d+\\)");
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string proto, st, rq, sq, local;
    fields >> proto >> st >> rq >> sq >> local;
    size_t colon = local.rfind(':');
    if (colon == std::string::npos) continue;
    auto port = static_cast<uint16_t>(std::atoi(local.c_str() + colon + 1));
    if (!ports.contains(port)) continue;
    std::string address = local.substr(0, colon);
    if (address.size() > 2 && address.front() == '[')
      address = address.substr(1, address.size() - 2);
    auto& holders = state[{proto, address, port}];
    for (std::sregex_iterator it(line.begin(), line.end(), user_re), end; it != end; ++it) {
      holders[static_cast<uint32_t>(std::stoul((*it)[2]))] = (*it)[1];
    }
  }
  return state;
}

// Our own network namespace, the one ss reports (the source samples every namespace).
uint64_t OwnNetns() {
  struct stat st {};
  return stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
}

State OurState(const std::vector<OwnedSocket>& sample, const std::set<uint16_t>& ports) {
  State state;
  static const uint64_t own = OwnNetns();
  for (const OwnedSocket& s : sample) {
    if (!ports.contains(s.socket.port) || s.socket.netns != own) continue;
    auto& holders = state[{std::string(ToString(s.socket.proto)), s.socket.address, s.socket.port}];
    for (const auto& p : s.holders) holders[p->pid] = p->name;
  }
  return state;
}

std::string Show(const State& state) {
  std::ostringstream o;
  for (const auto& [key, holders] : state) {
    o << std::get<0>(key) << " " << std::get<1>(key) << ":" << std::get<2>(key) << " {";
    for (const auto& [pid, name] : holders) o << " " << pid << "=" << name;
    o << " }\n";
  }
  return o.str();
}

bool Holds(const State& state, uint16_t port, pid_t pid) {
  for (const auto& [key, holders] : state) {
    if (std::get<2>(key) == port && holders.contains(static_cast<uint32_t>(pid))) return true;
  }
  return false;
}

// The account name of uid, as the source reports it.
std::string UserOf(uid_t uid) {
  passwd* pw = getpwuid(uid);
  return pw ? pw->pw_name : std::to_string(uid);
}

std::string Comm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

// The process state letter of /proc/PID/stat ('R', 'S', ...), or 0.
char ProcState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : 0;
}

class OwnerTracking : public ::testing::TestWithParam<bool> {
 protected:
  void TearDown() override {
    for (int fd : fds_) close(fd);
  }

  // A listener of this test, closed at the end. Close-on-exec, so that the `ss` run to
  // compare does not inherit it.
  uint16_t NewListener(bool v6 = false, int* fd_out = nullptr) {
    int fd = Listen(v6);
    EXPECT_GE(fd, 0);
    fds_.push_back(fd);
    ports_.insert(PortOf(fd));
    if (fd_out) *fd_out = fd;
    return PortOf(fd);
  }

  // The source under test; the first cycle is run here. Skips the events variant where
  // the proc connector is not usable (not root).
  void StartSource(LinuxSourceOptions options = {}) {
    options.use_proc_events = GetParam();
    source_ = MakeLinuxListenerSource(options);
    Cycle();
    cold_ = source_->LastStats();
    ASSERT_EQ(cold_.mode, "cold");
  }

  // One cycle; returns our view of the test's ports.
  State Cycle() {
    auto sample = source_->Sample();
    EXPECT_TRUE(sample) << sample.error().message;
    if (!sample) return {};
    if (GetParam() && !source_->EventsUnavailableReason().empty()) {
      skip_ = source_->EventsUnavailableReason();
    }
    last_ = OurState(**sample, ports_);
    last_sample_ = std::move(*sample);
    return last_;
  }

  // The last cycle's view equals what ss reports now.
  void ExpectLikeSs() {
    EXPECT_EQ(Show(last_), Show(SsState(ports_)));
    if (source_->LastStats().mode != "cold") {
      EXPECT_EQ(source_->LastStats().mode, GetParam() ? "events" : "fallback");
    }
  }

  std::set<uint16_t> ports_;
  std::vector<int> fds_;
  std::unique_ptr<LinuxListenerSource> source_;
  LinuxSourceStats cold_;
  State last_;
  OwnedSockets last_sample_ = std::make_shared<const std::vector<OwnedSocket>>();
  std::string skip_;
};

#define SKIP_WITHOUT_EVENTS()                               \
  do {                                                      \
    if (!skip_.empty()) {                                   \
      GTEST_SKIP() << "proc events unavailable: " << skip_; \
    }                                                       \
  } while (0)

TEST_P(OwnerTracking, ChildForkedAfterFirstCycleIsAHolder) {
  uint16_t port = NewListener();
  StartSource();
  SKIP_WITHOUT_EVENTS();
  ExpectLikeSs();
  auto child = Helper::Start("pw-forked");
  ASSERT_TRUE(child);
  State state = Cycle();
  EXPECT_TRUE(Holds(state, port, child->pid())) << Show(state);
  EXPECT_TRUE(Holds(state, port, getpid()));
  ExpectLikeSs();
}

TEST_P(OwnerTracking, ExecKeepsOnlyInheritableSocketsAndRenames) {
  uint16_t closing = NewListener(false);
  int kept_fd = -1;
  uint16_t kept = NewListener(true, &kept_fd);
  StartSource();
  SKIP_WITHOUT_EVENTS();
  auto child = Helper::Start("pw-exec");
  ASSERT_TRUE(child);
  State state = Cycle();
  EXPECT_TRUE(Holds(state, closing, child->pid()));
  EXPECT_TRUE(Holds(state, kept, child->pid()));
  ExpectLikeSs();

  ASSERT_EQ(child->Ask("exec " + std::to_string(kept_fd)), "ok");
  // The kernel renames the process before it sends the exec event; once `sleep` sleeps,
  // the execve has returned and the event is queued.
  ASSERT_TRUE(testing::PollUntil(
      [&] { return Comm(child->pid()) == "sleep" && ProcState(child->pid()) == 'S'; }));
  state = Cycle();
  EXPECT_FALSE(Holds(state, closing, child->pid())) << Show(state);
  EXPECT_TRUE(Holds(state, kept, child->pid())) << Show(state);
  ExpectLikeSs();
}

TEST_P(OwnerTracking, ExitedHolderIsGone) {
  uint16_t port = NewListener();
  auto child = Helper::Start("pw-exit");
  ASSERT_TRUE(child);
  StartSource();
  SKIP_WITHOUT_EVENTS();
  EXPECT_TRUE(Holds(last_, port, child->pid()));
  pid_t gone = child->pid();
  child->Kill();
  State state = Cycle();
  EXPECT_FALSE(Holds(state, port, gone)) << Show(state);
  EXPECT_TRUE(Holds(state, port, getpid()));
  ExpectLikeSs();
}

TEST_P(OwnerTracking, ReusedPidIsAnotherProcess) {
  uint16_t port = NewListener();
  StartSource();
  SKIP_WITHOUT_EVENTS();
  // Same name, other user: only the start time tells the two processes apart.
  auto first = Helper::Start("pw-reused");
  ASSERT_TRUE(first);
  pid_t pid = first->pid();
  State state = Cycle();
  ASSERT_TRUE(Holds(state, port, pid));

  std::string stat_text;
  std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/stat"), stat_text);
  auto stat = ParseProcStat(stat_text);
  ASSERT_TRUE(stat);
  first->Kill();
  // Start times count clock ticks: let one pass so the two processes differ in it, as
  // any two processes a collection interval apart do.
  long tick_ns = 1000000000L / sysconf(_SC_CLK_TCK);
  ASSERT_TRUE(testing::PollUntil([&] {
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    return (now.tv_sec * 1000000000L + now.tv_nsec) / tick_ns >
           static_cast<long>(stat->start_time) + 1;
  }));
  auto second = Helper::Start("pw-reused", pid, /*uid=*/65534);
  ASSERT_TRUE(second) << "cannot recreate PID " << pid << ": " << std::strerror(errno);
  ASSERT_EQ(second->pid(), pid);

  state = Cycle();
  ASSERT_TRUE(Holds(state, port, pid)) << Show(state);
  ExpectLikeSs();
  for (const OwnedSocket& s : *last_sample_) {
    if (s.socket.port != port) continue;
    for (const auto& p : s.holders) {
      if (p->pid == static_cast<uint32_t>(pid)) {
        EXPECT_EQ(p->user, UserOf(65534));
      }
    }
  }
}

TEST_P(OwnerTracking, SocketHandedToOlderProcessWithinSweepBound) {
  auto receiver = Helper::Start("pw-receiver");  // before the listener: inherits nothing
  ASSERT_TRUE(receiver);
  int fd = -1;
  uint16_t port = NewListener(false, &fd);
  LinuxSourceOptions options;
  options.young_window_s = 0;  // only the sweep can find it
  options.sweep_period_s = 0;
  options.sweep_min_cycles = 8;
  StartSource(options);
  SKIP_WITHOUT_EVENTS();
  ASSERT_FALSE(Holds(last_, port, receiver->pid()));

  ASSERT_NE(receiver->Ask("recv", fd), "-1");
  int cycles = 0;
  bool seen = false;
  while (!seen && cycles < 8) {
    ++cycles;
    seen = Holds(Cycle(), port, receiver->pid());
  }
  EXPECT_TRUE(seen) << "not seen within 8 cycles, the sweep bound with sweep_min_cycles 8";
  ExpectLikeSs();
}

TEST_P(OwnerTracking, SocketHandedToYoungProcessWithinSeconds) {
  int fd = -1;
  uint16_t port = NewListener(false, &fd);
  LinuxSourceOptions options;
  options.sweep_period_s = 1e9;  // the sweep reads one process per cycle: not the finder
  options.sweep_min_cycles = 1 << 30;
  StartSource(options);
  SKIP_WITHOUT_EVENTS();
  auto receiver = Helper::Start("pw-young");
  ASSERT_TRUE(receiver);
  ASSERT_EQ(receiver->Ask("close " + std::to_string(fd)), "ok");
  // The source learns of the receiver in this cycle: its age counts from then.
  using Clock = std::chrono::steady_clock;
  const Clock::time_point born_min = Clock::now();
  State state = Cycle();
  const Clock::time_point born_max = Clock::now();
  EXPECT_FALSE(Holds(state, port, receiver->pid())) << Show(state);
  ExpectLikeSs();

  const Clock::time_point handed = Clock::now();
  ASSERT_NE(receiver->Ask("recv", fd), "-1");
  // Young processes are re-read at ages 1, 2, 4 ... s: the first re-read after a hand-over
  // at age h comes by age max(1, 2h), and the cycle after it sees the socket. On a loaded
  // machine h and the cycles grow, so the bound is computed from what was measured, and
  // the wait itself is generous.
  Clock::duration longest_step{};
  Clock::time_point seen_at;
  ASSERT_TRUE(testing::PollUntil([&] {
    const Clock::time_point start = Clock::now();
    const bool seen = Holds(Cycle(), port, receiver->pid());
    seen_at = Clock::now();
    longest_step = std::max(longest_step, seen_at - start + std::chrono::milliseconds(20));
    return seen;
  }, std::chrono::seconds(60))) << "not seen within 60 s of the hand-over";
  const Clock::time_point bound =
      std::max(born_max + std::chrono::seconds(1), handed + (handed - born_min)) + longest_step;
  EXPECT_LE(seen_at, bound) << "seen "
                            << std::chrono::duration<double>(seen_at - handed).count()
                            << " s after the hand-over, bound "
                            << std::chrono::duration<double>(bound - handed).count() << " s";
  ExpectLikeSs();
}

TEST_P(OwnerTracking, HolderClosingItsCopyWithinSweepBound) {
  int fd = -1;
  uint16_t port = NewListener(false, &fd);
  auto child = Helper::Start("pw-closer");
  ASSERT_TRUE(child);
  LinuxSourceOptions options;
  options.young_window_s = 0;
  options.sweep_period_s = 0;
  options.sweep_min_cycles = 8;
  StartSource(options);
  SKIP_WITHOUT_EVENTS();
  ASSERT_TRUE(Holds(last_, port, child->pid()));

  ASSERT_EQ(child->Ask("close " + std::to_string(fd)), "ok");
  int cycles = 0;
  bool gone = false;
  while (!gone && cycles < 8) {
    ++cycles;
    gone = !Holds(Cycle(), port, child->pid());
  }
  EXPECT_TRUE(gone) << "still listed after 8 cycles, the sweep bound with sweep_min_cycles 8";
  // Without events every cycle re-checks the holders that ran: seen at once.
  if (!GetParam()) {
    EXPECT_EQ(cycles, 1);
  }
  ExpectLikeSs();
}

TEST_P(OwnerTracking, NewListenerInIdleProcessIsFoundCheaply) {
  auto child = Helper::Start("pw-idle");
  ASSERT_TRUE(child);
  StartSource();
  SKIP_WITHOUT_EVENTS();
  std::string answer = child->Ask("listen");
  uint16_t port = static_cast<uint16_t>(std::atoi(answer.c_str()));
  ASSERT_NE(port, 0) << answer;
  ports_.insert(port);
  State state = Cycle();
  EXPECT_TRUE(Holds(state, port, child->pid())) << Show(state);
  ExpectLikeSs();
  // Found without re-reading the host: idle processes are answered from their stored fds.
  EXPECT_LT(source_->LastStats().fd_links_read, cold_.fd_links_read / 2)
      << "cold cycle read " << cold_.fd_links_read;
}

TEST_P(OwnerTracking, QuietCycleReadsFewFds) {
  NewListener();
  auto child = Helper::Start("pw-quiet");
  ASSERT_TRUE(child);
  StartSource();
  SKIP_WITHOUT_EVENTS();
  Cycle();
  ExpectLikeSs();
  EXPECT_LT(source_->LastStats().fd_links_read, cold_.fd_links_read / 4)
      << "cold cycle read " << cold_.fd_links_read;
}

INSTANTIATE_TEST_SUITE_P(Modes, OwnerTracking, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "events" : "fallback"; });

}  // namespace
}  // namespace portwarden
