#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace portwarden {

// Pure policy of the Linux owner search: which processes to read first when a socket's
// owner is unknown, how much background re-checking a cycle does, and how often a search
// may read every process. Reading a process costs one readlink per open fd, so these
// decide what a cycle costs on a host with many fds.

/// A process that may hold a socket whose owner is unknown.
struct SearchCandidate {
  uint32_t pid = 0;
  uint32_t uid = 0;               ///< effective uid (owner of /proc/PID)
  bool fd_count_changed = false;  ///< opened or closed fds since it was last read
  bool holder = false;            ///< already holds a listening socket
  bool young = false;             ///< started recently, or never read yet
};

/// Orders candidates most likely first: those whose fd count changed (a new socket is a
/// new fd), then young processes, then listener holders, then processes of the sockets'
/// user (the socket uid netlink reports is its creator's), then the rest; within a rank
/// the highest PID (most recently started, short of PID wrap-around) first.
std::vector<uint32_t> OrderSearch(std::vector<SearchCandidate> candidates,
                                  const std::vector<uint32_t>& socket_uids);

/// How many processes the background sweep re-checks this cycle so that every process is
/// visited at least once per max(period_s, min_cycles cycles): the fraction per cycle is
/// min(elapsed_s / period_s, 1 / min_cycles), rounded up to whole processes. The first
/// term caps CPU time per second at short intervals, the second the cost of one cycle at
/// long ones.
size_t SweepCount(size_t processes, double elapsed_s, double period_s, int min_cycles);

/// Rate limit on searches that have to read many processes: a token bucket measured in
/// fds read, refilled at one full scan (every fd of the host) per refill_s and holding at
/// most one full scan. A search may start reading a process while tokens remain.
class ScanBudget {
 public:
  explicit ScanBudget(double refill_s) : refill_s_(refill_s) {}

  /// Adds the tokens earned since the last call; full_scan_fds is the host's fd count.
  void Refill(double now_s, uint64_t full_scan_fds);
  bool Available() const { return tokens_ > 0; }
  void Spend(uint64_t fds) { tokens_ -= static_cast<double>(fds); }

 private:
  double refill_s_;
  double tokens_ = 0;
  double last_s_ = -1;  ///< < 0: not refilled yet; the first refill fills the bucket
};

}  // namespace portwarden
