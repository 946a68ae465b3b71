#include "bench/fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace portwarden::bench {
namespace {

// The tree's masters, for the signal handler and atexit: plain storage, async-signal-safe.
constexpr size_t kMaxMasters = 8192;
pid_t g_masters[kMaxMasters];
std::atomic<size_t> g_master_count{0};

void KillMasters() {
  size_t n = g_master_count.load();
  for (size_t i = 0; i < n; ++i) {
    if (g_masters[i] > 0) kill(g_masters[i], SIGKILL);
  }
}

void OnSignal(int sig) {
  KillMasters();
  signal(sig, SIG_DFL);
  raise(sig);
}

void InstallCleanup() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  std::atexit(KillMasters);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, OnSignal);
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "portwarden-bench: fixture: %s: %s\n", what, std::strerror(errno));
  KillMasters();
  std::exit(1);
}

// A child of the tree: dies with its parent, does not run the parent's cleanup handlers.
void BecomeChild(pid_t parent, const std::string& name) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);  // the parent died before PDEATHSIG was armed
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, SIG_DFL);
  prctl(PR_SET_NAME, name.c_str());
}

int ListenOn(bool v6, uint16_t port, int type) {
  int fd = socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons(port);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
    len = sizeof *a;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      (type == SOCK_STREAM && listen(fd, 128) != 0)) {
    close(fd);
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

void Reply(int control, const std::string& text) {
  (void)!send(control, text.data(), text.size(), MSG_NOSIGNAL);
}

struct Share {
  int listeners = 0;
  int udp = 0;
  int pairs = 0;
};

[[noreturn]] void WorkerMain(pid_t parent, int index, int control, bool busy) {
  BecomeChild(parent, "pwfx-w" + std::to_string(index));
  close(control);
  for (;;) {
    if (busy) {
      poll(nullptr, 0, 100);
    } else {
      pause();
    }
  }
}

pid_t StartWorker(int index, int control, bool busy) {
  pid_t self = getpid();
  pid_t pid = fork();
  if (pid == 0) WorkerMain(self, index, control, busy);
  return pid;
}

// Moves the calling process into a new network namespace with its loopback up (a new
// namespace's lo is down: nothing could bind 127.0.0.1 or ::1).
bool UnshareNet() {
  if (unshare(CLONE_NEWNET) != 0) return false;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 &&
            (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
  if (fd >= 0) close(fd);
  return up;
}

// own_netns: a namespace's process (pwfx-nINDEX), in a network namespace of its own.
[[noreturn]] void MasterMain(pid_t parent, int index, bool own_netns, int control,
                             const Share& share, const FixtureOptions& options) {
  BecomeChild(parent, (own_netns ? "pwfx-n" : "pwfx-m") + std::to_string(index));
  if (own_netns && !UnshareNet()) _exit(8);
  std::map<uint16_t, std::vector<int>> tcp;
  std::vector<uint16_t> udp_ports;
  std::vector<int> keep;
  int first_v4 = -1;
  for (int k = 0; k < share.listeners; ++k) {
    int fd = ListenOn(k % 2 == 1, 0, SOCK_STREAM);
    if (fd < 0) _exit(2);
    if (first_v4 < 0 && k % 2 == 0) first_v4 = fd;
    tcp[PortOf(fd)].push_back(fd);
  }
  for (int k = 0; k < share.udp; ++k) {
    int fd = ListenOn(k % 2 == 1, 0, SOCK_DGRAM);
    if (fd < 0) _exit(3);
    udp_ports.push_back(PortOf(fd));
  }
  if (share.pairs > 0 && first_v4 < 0) {
    first_v4 = ListenOn(false, 0, SOCK_STREAM);
    tcp[PortOf(first_v4)].push_back(first_v4);
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(first_v4 >= 0 ? PortOf(first_v4) : 0);
  for (int k = 0; k < share.pairs; ++k) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) _exit(4);
    int s = accept4(first_v4, nullptr, nullptr, SOCK_CLOEXEC);
    if (s < 0) _exit(5);
  }
  // Other fds, as a busy server has: half files, half unix sockets (whose links read
  // "socket:[N]" like the listeners, so they cost the same to tell apart).
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int extra_fds = own_netns ? 0 : options.extra_fds;
  int files = extra_fds / 2;
  for (int k = 1; k < files; ++k) {
    if (dup(null) < 0) _exit(6);
  }
  for (int k = files; k < extra_fds; k += 2) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) _exit(7);
  }
  std::vector<pid_t> workers;
  for (int w = 0; w < (own_netns ? 0 : options.workers); ++w)
    workers.push_back(StartWorker(index, control, options.busy));

  // "R|w <worker pids>|t <tcp ports>|u <udp ports>"
  std::ostringstream ready;
  ready << "R|w";
  for (pid_t w : workers) ready << ' ' << w;
  ready << "|t";
  for (const auto& [port, fds] : tcp) {
    for (size_t k = 0; k < fds.size(); ++k) ready << ' ' << port;  // one per socket
  }
  ready << "|u";
  for (uint16_t p : udp_ports) ready << ' ' << p;
  Reply(control, ready.str());

  char buf[256];
  for (;;) {
    pollfd p{control, POLLIN, 0};
    if (poll(&p, 1, options.busy ? 100 : -1) == 0) continue;
    ssize_t n = recv(control, buf, sizeof buf - 1, 0);
    if (n <= 0) _exit(0);  // the bench went away
    buf[n] = '\0';
    unsigned arg = 0;
    std::sscanf(buf + 1, "%u", &arg);
    switch (buf[0]) {
      case 'L': {
        int fd = ListenOn(false, 0, SOCK_STREAM);
        uint16_t port = fd < 0 ? 0 : PortOf(fd);
        if (fd >= 0) tcp[port].push_back(fd);
        Reply(control, std::to_string(port));
        break;
      }
      case 'C': {
        auto it = tcp.find(static_cast<uint16_t>(arg));
        if (it == tcp.end()) {
          Reply(control, "none");
          break;
        }
        for (int fd : it->second) close(fd);
        tcp.erase(it);
        Reply(control, "ok");
        break;
      }
      case 'T': {
        int fd = ListenOn(false, static_cast<uint16_t>(arg), SOCK_STREAM);
        if (fd >= 0) tcp[static_cast<uint16_t>(arg)].push_back(fd);
        Reply(control, fd >= 0 ? "ok" : "err " + std::to_string(errno));
        break;
      }
      case 'F': {
        pid_t w = StartWorker(index, control, options.busy);
        if (w > 0) workers.push_back(w);
        Reply(control, std::to_string(w > 0 ? w : 0));
        break;
      }
      case 'X': {
        pid_t w = 0;
        if (!workers.empty()) {
          w = workers.back();
          workers.pop_back();
          kill(w, SIGKILL);
          waitpid(w, nullptr, 0);
        }
        Reply(control, std::to_string(w));
        break;
      }
      default:
        Reply(control, "?");
    }
  }
}

// Waits for a master's "R|w <worker pids>|t <tcp ports>|u <udp ports>" and fills m in.
void AwaitReady(Fixture::Master& m, std::chrono::steady_clock::time_point deadline) {
  char buf[1 << 16];
  pollfd p{m.control, POLLIN, 0};
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 0))) != 1) {
    errno = ETIMEDOUT;
    Fail("a master did not get ready");
  }
  ssize_t n = recv(m.control, buf, sizeof buf - 1, 0);
  if (n < 2 || buf[0] != 'R') {
    int status = 0;
    waitpid(m.pid, &status, WNOHANG);
    std::fprintf(stderr, "portwarden-bench: fixture: master %d failed (exit %d)\n", m.pid,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    KillMasters();
    std::exit(1);
  }
  std::istringstream sections(std::string(buf + 2, static_cast<size_t>(n) - 2));
  std::string section;
  while (std::getline(sections, section, '|')) {
    std::istringstream in(section);
    std::string tag;
    in >> tag;
    for (long v; in >> v;) {
      if (tag == "w") m.workers.push_back(static_cast<pid_t>(v));
      if (tag == "t") m.tcp_ports.push_back(static_cast<uint16_t>(v));
      if (tag == "u") m.udp_ports.push_back(static_cast<uint16_t>(v));
    }
  }
  m.netns = NetnsInode("/proc/" + std::to_string(m.pid) + "/ns/net");
}

}  // namespace

Fixture::Fixture(const FixtureOptions& options) {
  InstallCleanup();
  // Each process needs its fds plus room for the commands; a hard limit above the default
  // needs root, which the benchmark has.
  rlimit lim{1 << 16, 1 << 16};
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  int count = std::max(1, options.processes / (1 + options.workers));
  if (static_cast<size_t>(count) > kMaxMasters) {
    errno = E2BIG;
    Fail("too many processes");
  }
  pid_t self = getpid();
  auto start = [&](int i, bool own_netns, const Share& share) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) Fail("socketpair");
    pid_t pid = fork();
    if (pid < 0) Fail("fork");
    if (pid == 0) {
      close(sv[0]);
      MasterMain(self, i, own_netns, sv[1], share, options);
    }
    close(sv[1]);
    g_masters[g_master_count.load()] = pid;
    g_master_count.fetch_add(1);
    return Master{pid, sv[0], {}, {}, {}, 0};
  };
  for (int i = 0; i < count; ++i) {
    Share share;
    share.listeners = options.listeners / count + (i < options.listeners % count);
    share.udp = options.udp / count + (i < options.udp % count);
    share.pairs = options.established / count + (i < options.established % count);
    masters_.push_back(start(i, false, share));
  }
  for (int i = 0; i < options.namespaces; ++i) {
    namespaces_.push_back(start(i, true, Share{options.namespace_listeners, 0, 0}));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  for (auto* group : {&masters_, &namespaces_}) {
    for (Master& m : *group) AwaitReady(m, deadline);
  }
}

Fixture::~Fixture() { Stop(); }

void Fixture::Stop() {
  for (auto* group : {&masters_, &namespaces_}) {
    for (Master& m : *group) {
      if (m.pid > 0) kill(m.pid, SIGKILL);
    }
  }
  for (auto* group : {&masters_, &namespaces_}) {
    for (Master& m : *group) {
      if (m.pid > 0) waitpid(m.pid, nullptr, 0);
      if (m.control >= 0) close(m.control);
      m.pid = 0;
      m.control = -1;
    }
  }
  g_master_count.store(0);
}

std::vector<pid_t> Fixture::Pids() const {
  std::vector<pid_t> pids;
  for (const auto* group : {&masters_, &namespaces_}) {
    for (const Master& m : *group) {
      pids.push_back(m.pid);
      pids.insert(pids.end(), m.workers.begin(), m.workers.end());
    }
  }
  return pids;
}

std::vector<uint16_t> Fixture::Ports() const {
  std::vector<uint16_t> ports;
  for (const auto* group : {&masters_, &namespaces_}) {
    for (const Master& m : *group) {
      ports.insert(ports.end(), m.tcp_ports.begin(), m.tcp_ports.end());
      ports.insert(ports.end(), m.udp_ports.begin(), m.udp_ports.end());
    }
  }
  return ports;
}

std::string Fixture::Ask(size_t i, const std::string& command) {
  Master& m = masters_.at(i);
  if (send(m.control, command.data(), command.size(), MSG_NOSIGNAL) < 0) return "";
  char buf[256];
  ssize_t n = recv(m.control, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

uint16_t Fixture::Listen(size_t i) {
  auto port = static_cast<uint16_t>(std::atoi(Ask(i, "L").c_str()));
  if (port != 0) masters_[i].tcp_ports.push_back(port);
  return port;
}

bool Fixture::Close(size_t i, uint16_t port) {
  if (Ask(i, "C" + std::to_string(port)) != "ok") return false;
  std::erase(masters_[i].tcp_ports, port);
  return true;
}

bool Fixture::Take(size_t i, uint16_t port) {
  if (Ask(i, "T" + std::to_string(port)) != "ok") return false;
  masters_[i].tcp_ports.push_back(port);
  return true;
}

pid_t Fixture::Fork(size_t i) {
  pid_t pid = std::atoi(Ask(i, "F").c_str());
  if (pid > 0) masters_[i].workers.push_back(pid);
  return pid;
}

pid_t Fixture::ExitWorker(size_t i) {
  pid_t pid = std::atoi(Ask(i, "X").c_str());
  if (pid > 0) std::erase(masters_[i].workers, pid);
  return pid;
}

uint64_t NetnsInode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

uint64_t CountHostFds() {
  uint64_t total = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string path = std::string("/proc/") + e->d_name + "/fd";
    DIR* fds = opendir(path.c_str());
    if (!fds) continue;
    while (dirent* f = readdir(fds)) total += f->d_name[0] != '.';
    closedir(fds);
  }
  closedir(proc);
  return total;
}

}  // namespace portwarden::bench
