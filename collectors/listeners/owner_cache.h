#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "collectors/listeners/attribution.h"
#include "collectors/listeners/proc_events.h"

namespace portwarden {

/// A socket's identity across cycles. Inode numbers are reused once the kernel's counter
/// wraps; the netlink socket cookie (0 when read from /proc/net) tells such sockets apart.
struct SocketKey {
  uint64_t inode = 0;
  uint64_t cookie = 0;
  bool operator==(const SocketKey&) const = default;
};

struct SocketKeyHash {
  size_t operator()(const SocketKey& k) const {
    return std::hash<uint64_t>()(k.inode * 0x9e3779b97f4a7c15ULL ^ k.cookie);
  }
};

/// One socket fd of a process. Stored for every socket fd of every process, so it is kept
/// to 8 bytes: socket inodes are 32-bit (the kernel numbers them with get_next_ino()).
struct SocketFd {
  uint32_t inode = 0;
  int32_t fd = -1;
};
static_assert(sizeof(SocketFd) == 8);

/// What one read of /proc/PID found: identity, activity and every socket fd.
struct ProcessScan {
  uint32_t pid = 0;
  uint64_t start_time = 0;  ///< /proc/PID/stat field 22: tells a reused PID apart
  /// CPU time of the whole process (every thread, living or dead), read before its fds;
  /// empty if it could not be read. The same value later proves the fd table has not
  /// changed since: a process none of whose threads ran opened, closed, received nothing.
  std::optional<uint64_t> runtime_ns;
  bool readable = true;           ///< false: the fd directory could not be read
  uint32_t fd_count = 0;          ///< entries of the fd directory
  std::vector<SocketFd> sockets;  ///< every socket fd, listening or not, any order
};

/// A process's fd that refers to a listening socket, or should: the OS layer checks it.
struct Holding {
  uint32_t pid = 0;
  int32_t fd = -1;
  uint64_t inode = 0;
};

/// What the cache remembers of a process.
struct ProcessRecord {
  uint64_t start_time = 0;
  bool scanned = false;  ///< its fd directory has been read at least once
  bool readable = true;
  std::optional<uint64_t> runtime_ns;  ///< see ProcessScan::runtime_ns
  uint32_t fd_count = 0;
  std::vector<SocketFd> sockets;  ///< every socket fd at the last read, sorted by inode
  std::vector<Holding> held;      ///< its entries in the listening-socket index
  ProcessRef info;                ///< name, user, service; read for holders only (or null)
  uint64_t info_serial = 0;       ///< unique per distinct info stored (0: none yet)
  bool info_stale = true;         ///< info must be re-read (exec, rename, new holder...)
  double born_s = 0;              ///< when first seen as a new process (0: at the cold scan)
  int young_checks = 0;           ///< re-reads done so far in its first young_window
};

/// Options of the cache.
struct OwnerCacheOptions {
  /// New processes are re-read at ages 1, 2, 4, ... s up to this age: a process that
  /// receives listening sockets over SCM_RIGHTS (a hot-restarting proxy) usually does so
  /// right after it starts. 0 disables these re-reads.
  double young_window_s = 64;
};

/// Who holds which listening socket, kept across collection cycles: a process table built
/// from full reads of /proc/PID/fd, and an index from each listening socket to the
/// (pid, fd) pairs holding it. Pure bookkeeping: the OS layer (source_linux.cpp) feeds it
/// socket dumps, process reads, check results and proc connector events, and asks it what
/// to read next. Not thread-safe.
class OwnerCache {
 public:
  explicit OwnerCache(OwnerCacheOptions options = {}) : options_(options) {}

  // --- Sockets ---

  /// Starts a cycle with the listening sockets the OS reported: forgets sockets no longer
  /// reported, keeps the holders of the others; new ones start without holders.
  void Reconcile(std::vector<SocketEntry> sockets);

  /// Records that h.pid holds the socket with inode h.inode at h.fd (ignored if that inode
  /// is not a current listening socket or pid is unknown).
  void AddHolding(const Holding& h);
  /// Forgets one holding (the fd no longer refers to the socket).
  void RemoveHolding(const Holding& h);

  /// Current sockets without any known holder that are still worth searching for.
  std::vector<SocketKey> Pending() const;
  size_t PendingCount() const;
  bool HasHolder(const SocketKey& key) const;
  /// Holdings of pending sockets that the stored fd lists suggest. The lists may be old:
  /// the caller confirms each (the fd still refers to the socket) before AddHolding.
  std::vector<Holding> PendingClaims() const;
  /// The socket uids of the pending sockets (a search hint).
  std::vector<uint32_t> PendingUids() const;
  /// Marks every pending socket as searched in vain: no further searches until one of its
  /// holdings appears through an ordinary read, or it loses its last holder again.
  void MarkPendingOrphaned();

  // --- Processes ---

  /// Records a process first seen now (fork event, new PID) and not read yet.
  void AddNewborn(uint32_t pid, double now_s);
  /// Replaces what is known of scan.pid with a fresh read.
  void ApplyScan(ProcessScan scan);
  /// Forgets a process (exited, or its PID now belongs to another one).
  void DropProcess(uint32_t pid);
  /// Applies proc connector events in order. Returns the processes to read now, in order:
  /// children forked by a holder (they inherited its sockets) and holders that ran execve
  /// (close-on-exec sockets are gone). Forks by other processes are only recorded.
  std::vector<uint32_t> ApplyEvents(const std::vector<ProcEvent>& events, double now_s);
  /// Brings the process table in line with the PIDs now in /proc (used without events):
  /// drops vanished ones, records new ones as newborns. live must be sorted. Returns the
  /// new PIDs.
  std::vector<uint32_t> SyncPids(const std::vector<uint32_t>& live, double now_s);

  /// Sets a holder's name, user, service; nullopt means it is gone and drops it.
  void SetInfo(uint32_t pid, std::optional<Process> info);
  /// The info of pid must be re-read before the next output (renamed, reparented, ...).
  void MarkInfoStale(uint32_t pid);

  // --- Queries ---

  const ProcessRecord* Find(uint32_t pid) const;
  bool IsHolder(uint32_t pid) const;
  bool IsYoung(uint32_t pid) const { return young_.contains(pid); }
  std::vector<uint32_t> Pids() const;
  std::vector<uint32_t> HolderPids() const;
  /// Holdings of one process, to check after it ran execve or when events are missing.
  std::vector<Holding> HoldingsOf(uint32_t pid) const;
  /// Processes recorded but never read.
  std::vector<uint32_t> Unscanned() const;
  /// Holders whose info is missing or stale.
  std::vector<uint32_t> HoldersNeedingInfo() const;
  /// Young processes due for a re-read at now_s.
  std::vector<uint32_t> DueYoung(double now_s) const;
  /// Notes the re-read of a young process at now_s; it leaves the young set after the
  /// last one.
  void MarkYoungChecked(uint32_t pid, double now_s);
  /// The next n processes of the background sweep, round-robin by PID. wrapped is set
  /// when the round started over.
  std::vector<uint32_t> NextSweep(size_t n, bool* wrapped);
  size_t ProcessCount() const { return procs_.size(); }
  /// Sum of the fd counts of the last reads: what reading every process would cost.
  uint64_t TotalFds() const { return total_fds_; }

  /// The names of network namespaces (by inode) that Owned() puts on their sockets.
  void SetNetnsNames(std::map<uint64_t, std::string> names);

  /// Every current socket, in the order of the last Reconcile, with the processes
  /// holding it (once each, by PID, with the lowest fd it holds the socket at; holders
  /// without info are left out). The same pointer
  /// as the last call when none of that changed: a quiet cycle copies nothing.
  OwnedSockets Owned() const;

 private:
  struct SocketState {
    SocketKey key;
    SocketEntry socket;
    std::vector<std::pair<uint32_t, int32_t>> holders;  // (pid, fd)
    uint64_t seen = 0;                                  // last cycle that reported it
    bool orphan = false;
  };

  void Unhold(uint32_t pid, ProcessRecord& rec);

  OwnerCacheOptions options_;
  uint64_t cycle_ = 0;
  std::unordered_map<SocketKey, SocketState, SocketKeyHash> sockets_;
  std::unordered_map<uint64_t, SocketKey> by_inode_;  // current sockets only
  // As reported, without duplicates. Elements of an unordered_map keep their address
  // until erased, and Reconcile erases only sockets it did not put here.
  std::vector<SocketState*> order_;
  std::map<uint32_t, ProcessRecord> procs_;
  std::unordered_set<uint32_t> young_;
  std::unordered_set<uint32_t> unscanned_;
  uint64_t total_fds_ = 0;
  uint32_t sweep_cursor_ = 0;
  uint64_t info_serials_ = 0;  // last ProcessRecord::info_serial handed out
  std::map<uint64_t, std::string> netns_names_;
  uint64_t netns_names_serial_ = 0;  // changes with every new set of names
  // What Owned() returned last, and what it was made of: the names' serial, then per
  // socket in order its key, the number of holders, then each holder's pid and info_serial.
  mutable OwnedSockets owned_;
  mutable std::vector<uint64_t> owned_from_;
};

}  // namespace portwarden
