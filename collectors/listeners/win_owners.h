#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collectors/listeners/attribution.h"

namespace portwarden {

/// The per-process reads of the Windows source beyond its toolhelp snapshot, each through
/// a handle of the process (OpenProcess). An interface so that the cache below is tested
/// on every OS.
class WinProcessReader {
 public:
  virtual ~WinProcessReader() = default;
  /// When pid was created (FILETIME ticks), or nullopt if it cannot be opened (gone,
  /// protected, no permission).
  virtual std::optional<uint64_t> CreationTime(uint32_t pid) = 0;
  /// Image path of pid; empty if unreadable.
  virtual std::string ImagePath(uint32_t pid) = 0;
  /// DOMAIN\user of pid's token (an LSA lookup); empty if unreadable.
  virtual std::string User(uint32_t pid) = 0;
};

/// Turns the socket rows of the IP Helper tables (which carry the owning PID) into owned
/// sockets, reading each owner once per process rather than once per socket: image path
/// and user are kept per (PID, creation time), so a process is opened once per cycle and
/// its account looked up once in its life. Hands out the same pointer again when nothing
/// changed. Not thread-safe.
class WinOwnerCache {
 public:
  explicit WinOwnerCache(WinProcessReader& reader) : reader_(reader) {}

  /// The sockets of one cycle, in the order given, with their owners. `processes`: the
  /// toolhelp snapshot (pid, parent, image name); `services`: the services hosted per PID.
  /// PID 0 (the idle process; every socket under Wine) has no owner; PID 4 is the kernel.
  OwnedSockets Attribute(std::vector<SocketEntry> sockets,
                         const std::map<uint32_t, Process>& processes,
                         const std::map<uint32_t, std::string>& services);

 private:
  struct Known {
    uint64_t created = 0;
    ProcessRef info;
  };
  ProcessRef Owner(uint32_t pid, const std::map<uint32_t, Process>& processes,
                   const std::map<uint32_t, std::string>& services,
                   std::map<uint32_t, Known>& seen);

  WinProcessReader& reader_;
  std::map<uint32_t, Known> known_;  // owners of the last cycle that could be opened
  OwnedSockets last_;
};

}  // namespace portwarden
