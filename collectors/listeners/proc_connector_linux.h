#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/proc_events.h"

namespace portwarden {

/// A subscription to the kernel's proc connector (NETLINK_CONNECTOR, CN_IDX_PROC): fork,
/// exec, exit, uid and comm events of every process. Needs CAP_NET_ADMIN in the initial
/// user namespace and a process in the initial PID namespace (event PIDs are global).
/// Not thread-safe.
class ProcConnector {
 public:
  /// Subscribes and proves that events arrive: it forks a child that exits at once and
  /// waits up to 500 ms for the child's fork event. An error says why events cannot be
  /// used (no permission, no connector, events not delivered to this namespace).
  static Expected<std::unique_ptr<ProcConnector>> Open();

  ~ProcConnector();
  ProcConnector(const ProcConnector&) = delete;
  ProcConnector& operator=(const ProcConnector&) = delete;

  /// Every event queued since the last call, oldest first; nullopt if the kernel dropped
  /// events meanwhile (the socket's queue overflowed), so the caller must not rely on them
  /// for this interval. Never blocks.
  std::optional<std::vector<ProcEvent>> Drain();

 private:
  explicit ProcConnector(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace portwarden
