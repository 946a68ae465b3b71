#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "collectors/listeners/container.h"
#include "collectors/listeners/source.h"

namespace portwarden {

/// Tuning of the Linux source; the defaults are what the daemon runs with.
struct LinuxSourceOptions {
  SourceOptions base;
  /// Learn forks, execs and exits from the proc connector where permitted (CAP_NET_ADMIN,
  /// initial PID namespace, proc_root "/proc"). Without events every cycle re-checks the
  /// cached holders itself.
  bool use_proc_events = true;
  /// Background sweep: every process is re-checked at least once per
  /// max(sweep_period_s, sweep_min_cycles cycles); see SweepCount in scan_plan.h. This
  /// bounds how long a socket passed to an older process (SCM_RIGHTS), or closed by one of
  /// several holders, stays unseen.
  double sweep_period_s = 600;
  int sweep_min_cycles = 128;
  /// New processes are re-read at ages 1, 2, 4, ... s up to this age (0: never).
  double young_window_s = 64;
  /// Owner searches that read many processes are limited to one full scan's worth of fd
  /// reads per this many seconds; see ScanBudget in scan_plan.h.
  double search_refill_s = 120;
  /// Docker's state directory: container names come from containers/ID/config.v2.json.
  std::string docker_root = "/var/lib/docker";
  /// containers/storage's root (podman, CRI-O): names from overlay-containers/containers.json.
  std::string storage_root = "/var/lib/containers/storage";
};

/// What the last Sample() did, for tests and the benchmark.
struct LinuxSourceStats {
  std::string mode;           ///< "cold", "events", or "fallback" (events not usable)
  size_t events = 0;          ///< proc connector events applied
  size_t processes_read = 0;  ///< full reads of a /proc/PID/fd directory
  size_t fd_links_read = 0;   ///< readlinks of /proc/PID/fd entries
  size_t quiet_checks = 0;    ///< processes proven idle by their run time (nothing to read)
  size_t searched = 0;        ///< processes read by the owner search
  size_t pending = 0;         ///< sockets left without a known holder, still searched for
  size_t namespaces = 0;        ///< network namespaces sampled
  size_t namespaces_failed = 0; ///< of those, not entered or not dumped (left out)
  size_t netns_links_read = 0;  ///< readlinks of /proc/PID/ns/net
  size_t nat_dumps = 0;         ///< nf_tables rule dumps (a namespace's generation moved)
  size_t nat_failed = 0;        ///< namespaces whose NAT rules could not be read
  size_t nat_forwards = 0;      ///< forwards made into kNat sockets (in a cycle that did)
};

/// The Linux source, with what the generic interface does not show.
class LinuxListenerSource : public ListenerSource {
 public:
  /// Statistics of the last Sample().
  virtual const LinuxSourceStats& LastStats() const = 0;
  /// Why proc events are not used: empty while they are and before the first Sample().
  virtual std::string EventsUnavailableReason() const = 0;
};

/// Reads one process as portwarden shows it (name, exe, user, systemd unit, container,
/// socket-activation fds) from /proc/PID, keeping user and container names across calls.
/// Used by the listener source for holders and by the bind watch for callers. Not
/// thread-safe.
class ProcessReader {
 public:
  /// The runtimes' state directories (see LinuxSourceOptions): container names come from
  /// Docker's containers/ID/config.v2.json and containers/storage's containers.json.
  explicit ProcessReader(std::string docker_root = "/var/lib/docker",
                         std::string storage_root = "/var/lib/containers/storage");
  /// `pid` as read below `proc_dir` (an open /proc directory); nullopt if it is gone.
  std::optional<Process> Read(int proc_dir, uint32_t pid);
  /// p's container, runtime and pod from a /proc/PID/cgroup text, if it names a container.
  void SetContainer(std::string_view cgroup, Process& p);
  /// The container's name from its runtime's state where readable without a daemon API,
  /// else its short ID. Names are kept (bounded): a container keeps its ID.
  const std::string& ContainerName(const ContainerRef& ref);

 private:
  const std::string& UserName(uint32_t uid);

  std::string docker_root_;
  std::string storage_root_;
  std::string text_;  // scratch buffer for /proc reads
  std::map<uint32_t, std::string> users_;
  std::map<std::string, std::string> container_names_;  // by container ID
};

/// The Linux source with explicit tuning (MakeListenerSource uses the defaults).
std::unique_ptr<LinuxListenerSource> MakeLinuxListenerSource(const LinuxSourceOptions& options);

}  // namespace portwarden
