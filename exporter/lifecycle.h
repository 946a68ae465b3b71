#pragma once

namespace portwarden {

/// Raises this process's descriptor limit to the most it may have (POSIX: the soft
/// RLIMIT_NOFILE to the hard one; systemd's default soft limit is 1024): every connection
/// waiting for its request head holds one (--web.max-connections). Returns the limit now in
/// force, 0 where there is none to raise (Windows).
unsigned long RaiseDescriptorLimit();

/// What the outside world asks of the running daemon.
enum class ControlEvent { kStop, kReload };

/// Process-wide control events, from the platform: SIGTERM/SIGINT (stop) and SIGHUP (reload)
/// on POSIX; Ctrl-C/close (stop) on a Windows console; service stop/shutdown and
/// SERVICE_CONTROL_PARAMCHANGE (reload) under the Windows service manager.
/// Thread-safe.
class ControlEvents {
 public:
  /// Installs the platform's handlers. On POSIX, call before any thread starts: it blocks
  /// the signals process-wide and takes them on a dedicated thread.
  static void Install();
  /// Blocks until an event arrives and returns it.
  static ControlEvent Wait();
  /// Queues an event (from a signal/console/service handler).
  static void Post(ControlEvent event);
};

}  // namespace portwarden
