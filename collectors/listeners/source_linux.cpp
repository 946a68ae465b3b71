// Linux: sockets from netlink sock_diag (fallback /proc/net/*), owners from /proc/PID/fd,
// kept in an OwnerCache so that a quiet cycle reads the socket table and nothing else.
//
// A cycle:
//  1. drain proc connector events (fork/exec/exit), then dump the listening sockets;
//  2. apply what changed: exited processes are forgotten, children of holders and holders
//     that ran execve are read; without events, every cached holder is checked instead
//     (its run time, else each of its cached fds) and new PIDs are read;
//  3. sockets without a holder are searched for: first among the stored fd lists of every
//     process, then by reading processes that may have changed since their last read, the
//     likely ones first, stopping once all are found;
//  4. young processes and a slice of all processes are re-checked in the background.
// Reading a process means one readlink per open fd: that is the cost being avoided.
//
// Every network namespace is sampled: the namespace of each process is read at start, on
// its fork and exec events (entering a namespace is nearly always followed by an exec:
// unshare, ip netns exec, nsenter, runc), at its young re-checks and in the sweep; `ip netns`
// bind mounts are listed when /run/netns changes. Each namespace gets one sock_diag socket,
// made inside it once (netns_linux.h) and kept: its dumps report that namespace's sockets.
// Socket inodes and cookies are unique across namespaces, so one OwnerCache serves all.
#include "collectors/listeners/source_linux.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>

#include "collectors/common/text.h"
#include "collectors/listeners/container.h"
#include "collectors/listeners/inet_diag.h"
#include "collectors/listeners/nat.h"
#include "collectors/listeners/netns.h"
#include "collectors/listeners/netns_linux.h"
#include "collectors/listeners/owner_cache.h"
#include "collectors/listeners/proc_connector_linux.h"
#include "collectors/listeners/proc_net.h"
#include "collectors/listeners/procfs.h"
#include "collectors/listeners/proxy.h"
#include "collectors/listeners/scan_plan.h"
#include "collectors/listeners/socket_units_linux.h"

namespace portwarden {
namespace {

constexpr std::array<std::pair<Proto, Family>, 4> kTables = {{
    {Proto::kTcp, Family::kIpv4},
    {Proto::kTcp, Family::kIpv6},
    {Proto::kUdp, Family::kIpv4},
    {Proto::kUdp, Family::kIpv6},
}};

template <typename T>
std::optional<T> ParseNumber(const char* text) {
  T value = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end || ptr == text) return std::nullopt;
  return value;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// "PID" or "PID/<rest>", built without allocating: paths relative to the /proc dir fd.
class PidPath {
 public:
  PidPath(uint32_t pid, const char* rest) {
    auto [end, ec] = std::to_chars(buf_, buf_ + 16, pid);
    *end = '\0';
    if (rest[0] != '\0') {
      *end++ = '/';
      std::strncpy(end, rest, sizeof buf_ - static_cast<size_t>(end - buf_) - 1);
      buf_[sizeof buf_ - 1] = '\0';
    }
  }
  const char* c_str() const { return buf_; }

 private:
  char buf_[64] = {};
};

// Reads a small file below dirfd; false if it cannot be opened or read.
bool ReadSmall(int dirfd, const char* path, std::string& out) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return n == 0;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

// Sends a dump request on netlink socket fd and hands each reply datagram (read into buf)
// to take, which answers whether the dump is done (or the caller has what it wanted);
// returns once it is, or at end of stream.
template <class Take>
Expected<bool> NetlinkDump(int fd, const std::vector<uint8_t>& request, std::vector<uint8_t>& buf,
                           Take&& take) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof kernel) < 0) {
    return Error{std::string("netlink sendto: ") + std::strerror(errno)};
  }
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{std::string("netlink recv: ") + std::strerror(errno)};
    }
    if (n == 0) return true;
    auto done = take(std::span<const uint8_t>(buf.data(), size_t(n)));
    if (!done) return done.error();
    if (*done) return true;
  }
}

// One namespace's sock_diag socket, kept open across cycles; open makes a new one.
class Diag {
 public:
  explicit Diag(std::function<Expected<int>()> open) : open_(std::move(open)) {}

  Expected<std::vector<SocketEntry>> Dump() {
    if (fd_.get() < 0) {
      auto fd = open_();
      if (!fd) return Error{"netlink socket: " + fd.error().message};
      fd_.Reset(*fd);
    }
    auto dumped = DumpOn(fd_.get());
    if (!dumped) fd_.Reset();  // a half-read reply must not leak into the next dump
    return dumped;
  }

 private:
  Expected<std::vector<SocketEntry>> DumpOn(int fd) {
    std::vector<SocketEntry> all;
    for (auto [proto, family] : kTables) {
      auto dumped = NetlinkDump(fd, BuildInetDiagRequest(proto, family, ++seq_), buf_,
                                [&, proto = proto](std::span<const uint8_t> d) -> Expected<bool> {
                                  auto batch = DecodeInetDiag(d, proto);
                                  if (!batch) return batch.error();
                                  for (auto& s : batch->sockets) all.push_back(std::move(s));
                                  return batch->done;
                                });
      if (!dumped) return dumped.error();
    }
    return all;
  }

  std::function<Expected<int>()> open_;
  Fd fd_;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
};

// CPU time of a whole process (all its threads, dead ones included) in nanoseconds, from
// its CPU-time clock: one syscall, readable for any process. The clock id layout is the
// kernel's MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) (include/linux/posix-timers_types.h),
// the same glibc's clock_getcpuclockid() builds. nullopt: no such process.
std::optional<uint64_t> ProcessCpuNs(uint32_t pid) {
  constexpr clockid_t kCpuClockSched = 2;
  clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(pid)) << 3) | kCpuClockSched;
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return std::nullopt;
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Where `ip netns add` bind-mounts the namespaces it names (iproute2's NETNS_RUN_DIR).
constexpr const char* kNetnsRunDir = "/run/netns";

// This process's network namespace (always /proc/self: proc_root may be a fixture).
uint64_t OwnNetns() {
  char link[64];
  ssize_t n = readlink("/proc/self/ns/net", link, sizeof link);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof link) return 0;
  return ParseNetnsLink(std::string_view(link, static_cast<size_t>(n))).value_or(0);
}

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class LinuxSource final : public LinuxListenerSource {
 public:
  explicit LinuxSource(LinuxSourceOptions options)
      : options_(std::move(options)),
        cache_(OwnerCacheOptions{options_.young_window_s}),
        budget_(options_.search_refill_s) {}

  Expected<OwnedSockets> Sample() override {
    stats_ = {};
    read_this_cycle_.clear();
    now_ = SteadySeconds();
    if (proc_dir_.get() < 0) {
      proc_dir_.Reset(open(options_.base.proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (proc_dir_.get() < 0) {
        return Error{"cannot open " + options_.base.proc_root + ": " + std::strerror(errno)};
      }
    }
    if (!events_tried_) {
      OpenEvents();
      events_tried_ = true;
    }
    // Events first: a fork after this point is seen next cycle, never lost between two.
    std::optional<std::vector<ProcEvent>> events;
    if (events_) events = events_->Drain();
    // Namespaces before the dump, so that a new one's sockets are in this cycle's.
    std::vector<uint32_t> live;
    if (!started_) {
      live = ListPids();
      for (uint32_t pid : live) TrackNetns(pid);
      // PID 1's namespace; where its link is unreadable (a sandbox), this process's own.
      netns_.SetHost(NetnsOf(1).value_or(own_netns_));
    } else if (events && !missed_events_) {
      for (const ProcEvent& e : *events) {
        if (e.kind == ProcEvent::Kind::kExit) {
          netns_.Drop(e.pid);
        } else if (e.kind == ProcEvent::Kind::kFork || e.kind == ProcEvent::Kind::kExec) {
          TrackNetns(e.pid);
        }
      }
    } else {
      live = ListPids();
      SyncNetns(live);
    }
    ReadBindMounts();
    const std::vector<NetnsEntry> namespaces = SampledNamespaces();
    auto sockets = ReadSockets(namespaces);
    if (!sockets) {
      if (started_) missed_events_ = true;  // the drained events were not applied
      return sockets.error();
    }
    if (!started_) {
      Cold(live, std::move(*sockets));
      started_ = true;
    } else if (events && !missed_events_) {
      WithEvents(*events, std::move(*sockets));
    } else {
      WithoutEvents(live, std::move(*sockets));
      missed_events_ = false;
    }
    Search();
    ReadYoung();
    Sweep();
    last_sample_ = now_;
    for (uint32_t pid : cache_.HoldersNeedingInfo()) cache_.SetInfo(pid, ReadInfo(pid));
    RefreshManagers();
    stats_.pending = cache_.PendingCount();
    cache_.SetNetnsNames(netns_.Names());
    return WithNat(cache_.Owned(), ReadNat(namespaces));
  }

  std::string Backend() const override { return backend_; }
  const LinuxSourceStats& LastStats() const override { return stats_; }
  std::string EventsUnavailableReason() const override { return events_reason_; }

 private:
  enum class Activity { kQuiet, kActive, kGone };

  void OpenEvents() {
    if (!options_.use_proc_events) {
      events_reason_ = "disabled";
    } else if (options_.base.proc_root != "/proc") {
      events_reason_ = "proc_root is not /proc: event PIDs would not match it";
    } else if (auto conn = ProcConnector::Open()) {
      events_ = std::move(*conn);
    } else {
      events_reason_ = conn.error().message;
    }
  }

  // The namespace of pid, from its /proc/PID/ns/net link; nullopt if gone or unreadable.
  std::optional<uint64_t> NetnsOf(uint32_t pid) {
    char link[64];
    ssize_t n = readlinkat(proc_dir_.get(), PidPath(pid, "ns/net").c_str(), link, sizeof link);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof link) return std::nullopt;
    return ParseNetnsLink(std::string_view(link, static_cast<size_t>(n)));
  }

  void TrackNetns(uint32_t pid) {
    ++stats_.netns_links_read;
    if (auto inode = NetnsOf(pid)) {
      netns_.Set(pid, *inode);
    } else {
      netns_.Drop(pid);
    }
  }

  // live: every PID now (sorted). Forgets the exited, reads the new ones' namespaces.
  void SyncNetns(const std::vector<uint32_t>& live) {
    netns_.Sync(live);
    for (uint32_t pid : live) {
      if (!netns_.Knows(pid)) TrackNetns(pid);
    }
  }

  // The `ip netns` names: bind mounts of namespaces under /run/netns, listed again only
  // when the directory changed.
  void ReadBindMounts() {
    struct stat dir {};
    if (stat(kNetnsRunDir, &dir) != 0) dir = {};
    if (dir.st_ino == binds_dir_.st_ino && dir.st_mtim.tv_sec == binds_dir_.st_mtim.tv_sec &&
        dir.st_mtim.tv_nsec == binds_dir_.st_mtim.tv_nsec) {
      return;
    }
    binds_dir_ = dir;
    std::vector<std::pair<std::string, uint64_t>> binds;
    if (DIR* d = dir.st_ino != 0 ? opendir(kNetnsRunDir) : nullptr) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        struct stat st {};
        // An nsfs file: a namespace is bind-mounted there (a plain file until `ip netns
        // add` mounted it; its inode then is not a namespace's, but lists no socket).
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0) binds.emplace_back(e->d_name, st.st_ino);
      }
      closedir(d);
    }
    netns_.SetBindMounts(std::move(binds));
  }

  // The namespaces to sample: every one known, this process's own always among them.
  std::vector<NetnsEntry> SampledNamespaces() const {
    std::vector<NetnsEntry> namespaces = netns_.Namespaces();
    if (std::none_of(namespaces.begin(), namespaces.end(),
                     [&](const NetnsEntry& e) { return e.inode == own_netns_; })) {
      NetnsEntry own;  // e.g. a proc_root without ns links
      own.inode = own_netns_;
      namespaces.push_back(own);
    }
    return namespaces;
  }

  // Every namespace's sockets, each tagged with its namespace. This process's own
  // namespace falls back to /proc/net when netlink fails; another namespace that cannot be
  // entered or dumped is left out of this cycle (counted in the stats).
  Expected<std::vector<SocketEntry>> ReadSockets(const std::vector<NetnsEntry>& namespaces) {
    std::erase_if(diags_, [&](const auto& d) {
      return std::none_of(namespaces.begin(), namespaces.end(),
                          [&](const NetnsEntry& e) { return e.inode == d.first; });
    });
    std::vector<SocketEntry> all;
    backend_ = "netlink";
    for (const NetnsEntry& ns : namespaces) {
      ++stats_.namespaces;
      auto sockets = ReadNamespace(ns);
      if (!sockets && ns.inode == own_netns_) return sockets.error();
      if (!sockets) {
        ++stats_.namespaces_failed;
        continue;
      }
      for (auto& s : *sockets) {
        s.netns = ns.inode;
        all.push_back(std::move(s));
      }
    }
    return all;
  }

  Expected<std::vector<SocketEntry>> ReadNamespace(const NetnsEntry& ns) {
    const bool own = ns.inode == own_netns_;
    if (options_.base.use_netlink) {
      auto it = diags_.find(ns.inode);
      if (it == diags_.end()) {
        it = diags_.try_emplace(ns.inode, own ? OpenOwnDiag : OpenNetlinkIn(ns, NETLINK_SOCK_DIAG))
                 .first;
      }
      auto dumped = it->second.Dump();
      if (dumped) return dumped;
    }
    if (own) backend_ = "procfs";
    // /proc/PID/net shows the namespace of PID.
    if (!own && ns.pid == 0) return Error{"no process in network namespace to read /proc/net"};
    return ReadProcNet(own ? options_.base.proc_root
                           : options_.base.proc_root + "/" + std::to_string(ns.pid));
  }

  static Expected<int> OpenOwnNetlink(int protocol) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, protocol);
    if (fd < 0) return Error{std::strerror(errno)};
    return fd;
  }
  static Expected<int> OpenOwnDiag() { return OpenOwnNetlink(NETLINK_SOCK_DIAG); }

  // Opens the namespace through a process in it or its bind mount, checks it is still the
  // same one (the process may have moved), and makes a netlink socket inside it.
  std::function<Expected<int>()> OpenNetlinkIn(const NetnsEntry& ns, int protocol) {
    std::string path = ns.pid != 0 ? options_.base.proc_root + "/" + std::to_string(ns.pid) + "/ns/net"
                                   : std::string(kNetnsRunDir) + "/" + ns.bind;
    return [path, inode = ns.inode, protocol]() -> Expected<int> {
      Fd nsfd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (nsfd.get() < 0) return Error{"open " + path + ": " + std::strerror(errno)};
      struct stat st {};
      if (fstat(nsfd.get(), &st) != 0 || st.st_ino != inode) {
        return Error{path + " no longer refers to network namespace " + std::to_string(inode)};
      }
      return SocketInNetns(nsfd.get(), AF_NETLINK, SOCK_DGRAM, protocol);
    };
  }

  Expected<std::vector<SocketEntry>> ReadProcNet(const std::string& root) {
    std::vector<SocketEntry> all;
    for (auto [proto, family] : kTables) {
      std::string path = root + "/net/" +
                         (proto == Proto::kTcp ? "tcp" : "udp") +
                         (family == Family::kIpv6 ? "6" : "");
      auto text = ReadFile(path);
      if (!text) {
        if (family == Family::kIpv6) continue;  // a kernel without IPv6 has no tcp6/udp6
        return Error{"cannot read " + path + ": " + std::strerror(errno)};
      }
      auto table = ParseProcNet(*text, proto, family);
      if (!table) return Error{path + ": " + table.error().message};
      for (auto& s : table->sockets) all.push_back(std::move(s));
    }
    return all;
  }

  // First cycle: read every process once.
  void Cold(const std::vector<uint32_t>& live, std::vector<SocketEntry> sockets) {
    stats_.mode = "cold";
    cache_.Reconcile(std::move(sockets));
    for (uint32_t pid : live) Read(pid);
    // Every process was read: what has no holder now has none that can be seen.
    cache_.MarkPendingOrphaned();
  }

  void WithEvents(const std::vector<ProcEvent>& events, std::vector<SocketEntry> sockets) {
    stats_.mode = "events";
    stats_.events = events.size();
    std::vector<uint32_t> to_read = cache_.ApplyEvents(events, now_);
    cache_.Reconcile(std::move(sockets));
    for (uint32_t pid : to_read) Read(pid);
  }

  // No usable events (not permitted, or some were dropped): check every cached holder
  // and read every new PID, the "cache and re-validate" design.
  void WithoutEvents(const std::vector<uint32_t>& live, std::vector<SocketEntry> sockets) {
    stats_.mode = "fallback";
    std::vector<uint32_t> born = cache_.SyncPids(live, now_);
    cache_.Reconcile(std::move(sockets));
    for (uint32_t pid : cache_.HolderPids()) {
      const ProcessRecord* rec = cache_.Find(pid);
      std::optional<ProcStat> stat;
      if (ReadSmall(proc_dir_.get(), PidPath(pid, "stat").c_str(), text_)) {
        stat = ParseProcStat(text_);
      }
      if (!stat) {
        cache_.DropProcess(pid);
        continue;
      }
      if (stat->start_time != rec->start_time) {  // the PID now names another process
        Read(pid);
        continue;
      }
      if (rec->info && (rec->info->name != stat->comm || rec->info->ppid != stat->ppid)) {
        cache_.MarkInfoStale(pid);
      }
      if (Check(pid, *rec, false) == Activity::kQuiet) continue;
      for (const Holding& h : cache_.HoldingsOf(pid)) {
        if (!HoldsSocket(h)) cache_.RemoveHolding(h);
      }
    }
    // A new process may have inherited its parent's sockets.
    for (uint32_t pid : born) Read(pid);
  }

  // Finds holders for sockets that have none.
  void Search() {
    if (cache_.PendingCount() == 0) return;
    for (const Holding& h : cache_.PendingClaims()) {
      if (HoldsSocket(h)) cache_.AddHolding(h);
    }
    std::vector<SocketKey> pending = cache_.Pending();
    if (pending.empty()) return;
    // The creator of a new socket may have forked since: its children hold it too, so all
    // new processes are read, not just until one holder is found.
    for (uint32_t pid : cache_.Unscanned()) Read(pid);
    std::erase_if(pending, [&](const SocketKey& k) { return cache_.HasHolder(k); });
    if (pending.empty()) return;

    // Only a process that ran since its last read can hold a socket its stored fd list
    // lacks; each other process has just been answered from that list.
    std::vector<uint32_t> uids = cache_.PendingUids();
    std::vector<SearchCandidate> candidates;
    for (uint32_t pid : cache_.Pids()) {
      if (read_this_cycle_.contains(pid)) continue;
      const ProcessRecord* rec = cache_.Find(pid);
      if (rec->scanned && !rec->readable) continue;  // not ours to read; the sweep retries
      Activity activity = Check(pid, *rec, stats_.mode == "fallback");
      if (activity == Activity::kQuiet) continue;
      if (activity == Activity::kGone) {
        cache_.DropProcess(pid);
        continue;
      }
      SearchCandidate c;
      c.pid = pid;
      struct stat st {};
      if (fstatat(proc_dir_.get(), PidPath(pid, "fd").c_str(), &st, 0) == 0) {
        c.uid = st.st_uid;
        // st_size of /proc/PID/fd is its open fd count since Linux 6.2, 0 before.
        c.fd_count_changed = st.st_size > 0 && rec->scanned && st.st_size != rec->fd_count;
      }
      c.holder = cache_.IsHolder(pid);
      c.young = !rec->scanned || cache_.IsYoung(pid);
      candidates.push_back(c);
    }
    budget_.Refill(now_, cache_.TotalFds());
    bool complete = true;
    for (uint32_t pid : OrderSearch(std::move(candidates), uids)) {
      if (!budget_.Available()) {
        complete = false;
        break;
      }
      size_t before = stats_.fd_links_read;
      Read(pid);
      ++stats_.searched;
      budget_.Spend(stats_.fd_links_read - before);
      std::erase_if(pending, [&](const SocketKey& k) { return cache_.HasHolder(k); });
      // A new socket has one creator among the processes older than this cycle (the
      // others got it by fork, and new processes were all read): stop at the first.
      if (pending.empty()) break;
    }
    if (complete) cache_.MarkPendingOrphaned();
  }

  // Re-reads young processes that ran: they may have been handed sockets at start-up.
  void ReadYoung() {
    for (uint32_t pid : cache_.DueYoung(now_)) {
      const ProcessRecord* rec = cache_.Find(pid);
      if (!rec) continue;
      Activity activity = rec->scanned ? Check(pid, *rec, false) : Activity::kActive;
      if (activity == Activity::kGone) {
        cache_.DropProcess(pid);
        continue;
      }
      if (activity == Activity::kActive) {
        Read(pid);
        TrackNetns(pid);
      }
      cache_.MarkYoungChecked(pid, now_);
    }
  }

  // Re-checks a slice of all processes: what no event reports (a socket received over
  // SCM_RIGHTS, one holder closing its copy) is seen within one round.
  void Sweep() {
    double elapsed = last_sample_ > 0 ? now_ - last_sample_ : 0;
    size_t n = SweepCount(cache_.ProcessCount(), elapsed, options_.sweep_period_s,
                          options_.sweep_min_cycles);
    bool wrapped = false;
    for (uint32_t pid : cache_.NextSweep(n, &wrapped)) {
      const ProcessRecord* rec = cache_.Find(pid);
      if (!rec) continue;
      Activity activity =
          rec->scanned ? Check(pid, *rec, stats_.mode == "fallback") : Activity::kActive;
      if (activity == Activity::kGone) {
        cache_.DropProcess(pid);
      } else if (activity == Activity::kActive) {
        Read(pid);
        TrackNetns(pid);
      } else if (cache_.IsHolder(pid)) {
        cache_.MarkInfoStale(pid);  // an idle process can still be moved to another cgroup
      }
    }
    // Once per round, make sure no process escaped the events (none should).
    if (wrapped && stats_.mode == "events") {
      std::vector<uint32_t> live = ListPids();
      for (uint32_t pid : cache_.SyncPids(live, now_)) Read(pid);
      SyncNetns(live);
    }
  }

  std::vector<uint32_t> ListPids() {
    std::vector<uint32_t> pids;
    int fd = openat(proc_dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return pids;
    DIR* dir = fdopendir(fd);
    if (!dir) {
      close(fd);
      return pids;
    }
    while (dirent* e = readdir(dir)) {
      if (auto pid = ParseNumber<uint32_t>(e->d_name); pid && *pid > 0) pids.push_back(*pid);
    }
    closedir(dir);
    std::sort(pids.begin(), pids.end());
    return pids;
  }

  // Whether pid can have changed its fd table since its last read. identity: also
  // compare the start time (without exit events a PID may name another process by now).
  Activity Check(uint32_t pid, const ProcessRecord& rec, bool identity) {
    if (!rec.runtime_ns) return Activity::kActive;
    auto runtime = ProcessCpuNs(pid);
    if (!runtime) return Activity::kGone;
    if (*runtime != *rec.runtime_ns) return Activity::kActive;
    if (identity) {
      if (!ReadSmall(proc_dir_.get(), PidPath(pid, "stat").c_str(), text_)) {
        return Activity::kGone;
      }
      auto stat = ParseProcStat(text_);
      if (!stat || stat->start_time != rec.start_time) return Activity::kActive;
    }
    ++stats_.quiet_checks;
    return Activity::kQuiet;
  }

  // Reads pid fully (at most once per cycle) and stores the result.
  void Read(uint32_t pid) {
    if (!read_this_cycle_.insert(pid).second) return;
    ProcessScan scan;
    scan.pid = pid;
    if (!ReadSmall(proc_dir_.get(), PidPath(pid, "stat").c_str(), text_)) {
      cache_.DropProcess(pid);
      return;
    }
    auto stat = ParseProcStat(text_);
    if (!stat) {
      cache_.DropProcess(pid);
      return;
    }
    scan.start_time = stat->start_time;
    // Taken before the fds: if it is unchanged later, nothing ran after the read began.
    scan.runtime_ns = ProcessCpuNs(pid);
    int dfd =
        openat(proc_dir_.get(), PidPath(pid, "fd").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
      if (errno == ENOENT || errno == ESRCH) {
        cache_.DropProcess(pid);
        return;
      }
      scan.readable = false;  // its sockets stay unattributed, as with ss
      cache_.ApplyScan(std::move(scan));
      return;
    }
    ++stats_.processes_read;
    DIR* dir = fdopendir(dfd);
    if (!dir) {
      close(dfd);
      scan.readable = false;
      cache_.ApplyScan(std::move(scan));
      return;
    }
    char link[64];
    while (dirent* e = readdir(dir)) {
      auto fd = ParseNumber<int32_t>(e->d_name);
      if (!fd) continue;
      ++scan.fd_count;
      ++stats_.fd_links_read;
      ssize_t n = readlinkat(dfd, e->d_name, link, sizeof link);
      if (n <= 0 || static_cast<size_t>(n) >= sizeof link) continue;
      auto inode = ParseSocketLink(std::string_view(link, static_cast<size_t>(n)));
      if (inode && *inode <= UINT32_MAX) {
        scan.sockets.push_back({static_cast<uint32_t>(*inode), *fd});
      }
    }
    closedir(dir);
    cache_.ApplyScan(std::move(scan));
  }

  // Whether h.pid's fd h.fd still refers to the socket h.inode.
  bool HoldsSocket(const Holding& h) {
    char rest[24];
    std::snprintf(rest, sizeof rest, "fd/%d", h.fd);
    char link[64];
    ++stats_.fd_links_read;
    ssize_t n = readlinkat(proc_dir_.get(), PidPath(h.pid, rest).c_str(), link, sizeof link);
    if (n <= 0 || static_cast<size_t>(n) >= sizeof link) return false;
    return ParseSocketLink(std::string_view(link, static_cast<size_t>(n))) == h.inode;
  }

  // pid as ProcessReader reads it; a port proxy also gets the container it forwards into,
  // a service manager its socket units.
  std::optional<Process> ReadInfo(uint32_t pid) {
    std::optional<Process> p = processes_.Read(proc_dir_.get(), pid);
    if (p && IsPortProxy(p->name)) AttributeProxy(pid, *p);
    if (p && IsServiceManager(*p)) {
      p->socket_units = units_.Load(RootOf(pid));
      managers_[pid] = p->socket_units;
    }
    return p;
  }

  // systemd as PID 1 of its PID namespace: the host's, or a container's init. (A user's
  // systemd --user also holds sockets, for units in its home: not read.)
  static bool IsServiceManager(const Process& p) { return p.name == "systemd" && p.ns_pid == 1; }

  // Its root directory: its unit files are read there, in its own mount namespace.
  std::string RootOf(uint32_t pid) const {
    return options_.base.proc_root + "/" + std::to_string(pid) + "/root";
  }

  // A holding manager's info is read again when its unit files changed (what it loads on
  // a daemon-reload); managers that hold nothing any more are forgotten.
  void RefreshManagers() {
    for (auto it = managers_.begin(); it != managers_.end();) {
      const uint32_t pid = it->first;
      if (!cache_.IsHolder(pid)) {
        units_.Forget(RootOf(pid));
        it = managers_.erase(it);
        continue;
      }
      if (units_.Load(RootOf(pid)) != it->second) cache_.SetInfo(pid, ReadInfo(pid));
      ++it;
    }
  }

  // A port proxy's host ports belong to the container whose namespace it forwards into.
  void AttributeProxy(uint32_t pid, Process& p) {
    std::optional<uint64_t> own = NetnsOf(pid);
    std::optional<uint64_t> target;
    std::optional<ProxyTarget> args;
    if (ReadSmall(proc_dir_.get(), PidPath(pid, "cmdline").c_str(), text_)) {
      args = ParseProxyCmdline(text_);
    }
    if (!args) {
      target = NetnsFileHeldBy(pid, own);  // pasta keeps its target namespace's file open
    } else if (!args->container_id.empty()) {
      // conmon: the container by its ID; its namespace is that of the PID in its pid file.
      p.container = processes_.ContainerName(ContainerRef{"podman", args->container_id, ""});
      p.container_runtime = "podman";
      std::string pid_text;
      std::string path = options_.base.proc_root + "/" + std::to_string(pid) + "/root" +
                         args->pid_file;
      if (ReadSmall(AT_FDCWD, path.c_str(), pid_text)) {
        pid_text = std::string(Trim(pid_text));
        if (auto child = ParseNumber<uint32_t>(pid_text.c_str())) target = NetnsOf(*child);
      }
      if (target && target != own) p.forwards_netns = *target;
      return;
    } else if (args->pid != 0) {
      target = NetnsOf(args->pid);
    } else if (!args->netns_path.empty()) {
      // The path is in the proxy's mount namespace: resolve it through its root.
      struct stat st {};
      std::string path = options_.base.proc_root + "/" + std::to_string(pid) + "/root" +
                         args->netns_path;
      if (stat(path.c_str(), &st) == 0) target = st.st_ino;
    } else {
      target = NetnsWithAddress(args->container_ip, own);
    }
    if (!target || target == own) return;
    p.forwards_netns = *target;
    for (const NetnsEntry& ns : netns_.Namespaces()) {
      if (ns.inode != *target || ns.pid == 0) continue;
      if (ReadSmall(proc_dir_.get(), PidPath(ns.pid, "cgroup").c_str(), text_)) {
        processes_.SetContainer(text_, p);
      }
    }
  }

  struct NatTable {  // one namespace's nf_tables: its netlink socket and last forwards
    Fd fd;
    bool read = false;
    uint32_t generation = 0;
    std::vector<NatForward> forwards;
  };

  // Each namespace's destination NAT forwards (nf_tables over netlink, CAP_NET_ADMIN),
  // dumped again only when its ruleset generation moved. Returns whether any namespace's
  // forwards (or the set of namespaces) changed. A namespace whose rules cannot be read
  // has none this cycle (counted in the stats).
  bool ReadNat(const std::vector<NetnsEntry>& namespaces) {
    bool changed = std::erase_if(nat_, [&](const auto& t) {
                     return std::none_of(namespaces.begin(), namespaces.end(),
                                         [&](const NetnsEntry& e) { return e.inode == t.first; });
                   }) > 0;
    for (const NetnsEntry& ns : namespaces) {
      auto [it, inserted] = nat_.try_emplace(ns.inode);
      changed |= inserted;
      NatTable& t = it->second;
      auto forwards = ReadNatTable(ns, t);
      if (!forwards) {
        ++stats_.nat_failed;
        t.fd.Reset();  // a half-read reply must not leak into the next request
        t.read = false;
        forwards = std::vector<NatForward>{};
      }
      if (*forwards == t.forwards) continue;
      changed = true;
      t.forwards = std::move(*forwards);
    }
    if (changed) ResolveNatTargets();
    return changed;
  }

  // t's forwards as of now: the kept ones while the generation stands, else a new dump.
  Expected<std::vector<NatForward>> ReadNatTable(const NetnsEntry& ns, NatTable& t) {
    if (t.fd.get() < 0) {
      auto fd = ns.inode == own_netns_ ? OpenOwnNetlink(NETLINK_NETFILTER)
                                       : OpenNetlinkIn(ns, NETLINK_NETFILTER)();
      if (!fd) return fd.error();
      t.fd.Reset(*fd);
    }
    std::optional<uint32_t> generation;
    auto asked = NetlinkDump(t.fd.get(), BuildNftGenRequest(++nat_seq_), buf_,
                             [&](std::span<const uint8_t> d) -> Expected<bool> {
                               auto g = DecodeNftGen(d);
                               if (!g) return g.error();
                               generation = *g;
                               return true;
                             });
    if (!asked) return asked.error();
    if (t.read && generation == t.generation) return t.forwards;
    std::vector<NatForward> all;
    ++stats_.nat_dumps;
    auto dumped = NetlinkDump(t.fd.get(), BuildNftRuleRequest(++nat_seq_), buf_,
                              [&](std::span<const uint8_t> d) -> Expected<bool> {
                                auto batch = DecodeNftRuleDump(d);
                                if (!batch) return batch.error();
                                for (auto& f : batch->forwards) all.push_back(std::move(f));
                                return batch->done;
                              });
    if (!dumped) return dumped.error();
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    t.read = true;
    t.generation = generation.value_or(0);
    return all;
  }

  // Where each forward goes: the namespace (other than the rule's) one of whose interfaces
  // has the target address, 0 if none here (another host).
  void ResolveNatTargets() {
    nat_targets_.clear();
    for (const auto& [inode, t] : nat_) {
      for (const NatForward& f : t.forwards) {
        nat_targets_.push_back({inode, f, NetnsWithAddress(f.to_address, inode).value_or(0)});
      }
    }
  }

  // The forwards as sockets of kind kNat: the address and port a rule matches in its
  // namespace, held by whoever listens on the target address and port in the target
  // namespace (the server in the container), else by that namespace's first process (the
  // container's init, which names the container), unless that is the host's namespace.
  std::vector<OwnedSocket> NatSockets(const std::vector<OwnedSocket>& sockets) {
    const std::map<uint64_t, std::string> names = netns_.Names();
    std::vector<OwnedSocket> out;
    for (const NatTarget& n : nat_targets_) {
      const NatForward& f = n.forward;
      const bool v6 = f.family == Family::kIpv6;
      OwnedSocket o;
      o.kind = OwnerKind::kNat;
      o.socket.proto = f.proto;
      o.socket.family = f.family;
      o.socket.address = !f.address.empty() ? f.address : v6 ? "::" : "0.0.0.0";
      o.socket.port = f.port;
      o.socket.netns = n.netns;
      o.forwards_to = (v6 ? "[" + f.to_address + "]" : f.to_address) + ":" +
                      std::to_string(f.to_port);
      auto name = names.find(n.netns);
      if (name != names.end()) o.netns_name = name->second;
      if (n.target != 0) {
        for (const OwnedSocket& s : sockets) {
          const SocketEntry& e = s.socket;
          if (e.netns == n.target && e.proto == f.proto && e.port == f.to_port &&
              (e.address == f.to_address || e.address == "0.0.0.0" ||
               (e.address == "::" && (v6 || !e.v6only)))) {
            o.holders = s.holders;
            break;
          }
        }
        auto target_name = names.find(n.target);
        const bool host = target_name != names.end() && target_name->second == "host";
        if (o.holders.empty() && !host) {
          for (const NetnsEntry& ns : netns_.Namespaces()) {
            if (ns.inode != n.target || ns.pid == 0) continue;
            if (auto p = ReadInfo(ns.pid)) o.holders.push_back(std::make_shared<const Process>(*p));
            break;
          }
        }
      }
      out.push_back(std::move(o));
    }
    stats_.nat_forwards = out.size();
    return out;
  }

  // The sample with the NAT forwards after the sockets: the same pointer as last time while
  // neither changed.
  OwnedSockets WithNat(OwnedSockets owned, bool nat_changed) {
    if (nat_targets_.empty()) return owned;
    if (nat_changed || owned != with_nat_from_) {
      auto all = std::make_shared<std::vector<OwnedSocket>>(*owned);
      std::vector<OwnedSocket> nat = NatSockets(*owned);
      all->insert(all->end(), std::make_move_iterator(nat.begin()),
                  std::make_move_iterator(nat.end()));
      with_nat_ = std::move(all);
      with_nat_from_ = std::move(owned);
    }
    return with_nat_;
  }

  // A known network namespace (other than own) whose nsfs file pid holds open.
  std::optional<uint64_t> NetnsFileHeldBy(uint32_t pid, std::optional<uint64_t> own) {
    struct stat nsfs {};
    if (stat("/proc/self/ns/net", &nsfs) != 0) return std::nullopt;
    std::vector<NetnsEntry> known = netns_.Namespaces();
    int dfd = openat(proc_dir_.get(), PidPath(pid, "fd").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return std::nullopt;
    DIR* dir = fdopendir(dfd);
    if (!dir) {
      close(dfd);
      return std::nullopt;
    }
    std::optional<uint64_t> found;
    while (dirent* e = readdir(dir)) {
      struct stat st {};
      if (e->d_name[0] == '.' || fstatat(dfd, e->d_name, &st, 0) != 0) continue;
      if (st.st_dev != nsfs.st_dev || st.st_ino == own) continue;
      if (std::any_of(known.begin(), known.end(),
                      [&](const NetnsEntry& ns) { return ns.inode == st.st_ino; })) {
        found = st.st_ino;
        break;
      }
    }
    closedir(dir);
    return found;
  }

  // The namespace (other than own) one of whose interfaces has address ip, from an
  // RTM_GETADDR dump in each: docker-proxy names the container by its address alone.
  std::optional<uint64_t> NetnsWithAddress(const std::string& ip, std::optional<uint64_t> own) {
    for (const NetnsEntry& ns : netns_.Namespaces()) {
      if (ns.inode == own) continue;
      auto fd = (ns.inode == own_netns_ ? OpenOwnNetlink(NETLINK_ROUTE)
                                        : OpenNetlinkIn(ns, NETLINK_ROUTE)());
      if (!fd) continue;
      Fd sock(*fd);
      std::vector<uint8_t> buf(64 * 1024);
      bool found = false;
      auto dumped = NetlinkDump(sock.get(), BuildAddrRequest(1), buf,
                                [&](std::span<const uint8_t> d) -> Expected<bool> {
                                  auto batch = DecodeAddrDump(d);
                                  if (!batch) return batch.error();
                                  found = std::find(batch->addresses.begin(),
                                                    batch->addresses.end(),
                                                    ip) != batch->addresses.end();
                                  return found || batch->done;
                                });
      if (dumped && found) return ns.inode;
    }
    return std::nullopt;
  }

  LinuxSourceOptions options_;
  OwnerCache cache_;
  ScanBudget budget_;
  NetnsTable netns_;
  uint64_t own_netns_ = OwnNetns();
  std::map<uint64_t, Diag> diags_;  // by namespace inode
  struct stat binds_dir_ {};        // /run/netns when last listed
  Fd proc_dir_;
  std::unique_ptr<ProcConnector> events_;
  std::string events_reason_;
  bool events_tried_ = false;
  bool started_ = false;
  bool missed_events_ = false;
  double now_ = 0;
  double last_sample_ = 0;
  std::unordered_set<uint32_t> read_this_cycle_;
  std::string text_;  // scratch buffer for /proc reads
  LinuxSourceStats stats_;
  std::string backend_ = "netlink";
  ProcessReader processes_{options_.docker_root, options_.storage_root};
  SocketUnitLoader units_;
  std::map<uint64_t, NatTable> nat_;  // by namespace inode
  struct NatTarget {
    uint64_t netns = 0;  // the rule's
    NatForward forward;
    uint64_t target = 0;  // the namespace with forward.to_address; 0: none here
  };
  std::vector<NatTarget> nat_targets_;
  OwnedSockets with_nat_;
  OwnedSockets with_nat_from_;
  uint32_t nat_seq_ = 0;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
  std::map<uint32_t, std::shared_ptr<const SocketUnitTable>> managers_;  // by PID
};

}  // namespace

ProcessReader::ProcessReader(std::string docker_root, std::string storage_root)
    : docker_root_(std::move(docker_root)), storage_root_(std::move(storage_root)) {}

std::optional<Process> ProcessReader::Read(int proc_dir, uint32_t pid) {
  if (!ReadSmall(proc_dir, PidPath(pid, "stat").c_str(), text_)) return std::nullopt;
  auto stat = ParseProcStat(text_);
  if (!stat) return std::nullopt;
  Process p;
  p.pid = pid;
  p.ppid = stat->ppid;
  p.name = stat->comm;
  char exe[4096];
  ssize_t n = readlinkat(proc_dir, PidPath(pid, "exe").c_str(), exe, sizeof exe);
  if (n > 0 && static_cast<size_t>(n) < sizeof exe) p.exe.assign(exe, size_t(n));
  p.ns_pid = pid;
  if (ReadSmall(proc_dir, PidPath(pid, "status").c_str(), text_)) {
    if (auto uid = ParseStatusUid(text_)) p.user = UserName(*uid);
    p.ns_pid = ParseStatusInnermostPid(text_).value_or(pid);
  }
  if (ReadSmall(proc_dir, PidPath(pid, "cgroup").c_str(), text_)) {
    p.service = ParseSystemdUnit(text_);
    SetContainer(text_, p);
  }
  if (ReadSmall(proc_dir, PidPath(pid, "environ").c_str(), text_)) {
    // LISTEN_PID is the PID as the process knows it: in a container, its namespace's.
    p.listen_fds = ParseListenFds(text_, p.ns_pid).value_or(std::vector<std::string>{});
  }
  return p;
}

void ProcessReader::SetContainer(std::string_view cgroup, Process& p) {
  ContainerRef ref = ParseContainer(cgroup);
  if (ref.id.empty()) return;
  p.container = ContainerName(ref);
  p.container_runtime = ref.runtime;
  p.pod = ref.pod;
}

const std::string& ProcessReader::ContainerName(const ContainerRef& ref) {
  if (container_names_.size() >= 4096) container_names_.clear();  // bounded under churn
  auto [it, inserted] = container_names_.try_emplace(ref.id);
  if (inserted) {
    std::string name;
    if (ref.runtime == "docker") {
      if (auto json = ReadFile(docker_root_ + "/containers/" + ref.id + "/config.v2.json")) {
        name = ParseDockerConfigName(*json);
      }
    } else if (ref.runtime == "podman" || ref.runtime == "cri-o") {
      if (auto json = ReadFile(storage_root_ + "/overlay-containers/containers.json")) {
        name = ParseStorageContainerName(*json, ref.id);
      }
    }
    it->second = name.empty() ? ShortContainerId(ref.id) : name;
  }
  return it->second;
}

const std::string& ProcessReader::UserName(uint32_t uid) {
  auto [it, inserted] = users_.try_emplace(uid);
  if (inserted) {
    passwd pw{};
    passwd* result = nullptr;
    std::array<char, 4096> buf{};
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result) {
      it->second = result->pw_name;
    } else {
      it->second = std::to_string(uid);
    }
  }
  return it->second;
}

std::unique_ptr<LinuxListenerSource> MakeLinuxListenerSource(const LinuxSourceOptions& options) {
  return std::make_unique<LinuxSource>(options);
}

std::unique_ptr<ListenerSource> MakeListenerSource(const SourceOptions& options) {
  LinuxSourceOptions linux_options;
  linux_options.base = options;
  return MakeLinuxListenerSource(linux_options);
}

}  // namespace portwarden
