#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collectors/listeners/socket_units.h"

namespace portwarden {

/// The directories a system manager loads units from, highest priority first (systemd
/// 252's lookup paths for the system scope; /lib/systemd/system for hosts without merged /usr).
extern const std::vector<std::string> kSystemUnitDirs;

/// Reads the .socket units of service managers from their unit files, below a root: "/"
/// for the host's, "/proc/PID/root" for a systemd that is PID 1 of a container. A unit is
/// the first file of its name in kSystemUnitDirs (a symlink to /dev/null masks it; absolute
/// symlinks resolve below the root), with its NAME.d/*.conf drop-ins from every directory
/// (the first of each file name), applied in file name order. Templates ("x@.socket") are
/// left out: their listens depend on the instance. Not thread-safe.
class SocketUnitLoader {
 public:
  /// The units below root that listen on IP addresses. The same pointer as the last call
  /// for root unless a unit directory, drop-in directory or unit file changed since (each
  /// call stats those, a few dozen paths, and reads the files only when one changed).
  std::shared_ptr<const SocketUnitTable> Load(const std::string& root);
  /// Forgets what was read below root.
  void Forget(const std::string& root) { loaded_.erase(root); }

 private:
  struct Stamp {
    std::string path;
    int64_t mtime_ns = -1;  ///< -1: absent
    bool operator==(const Stamp&) const = default;
  };
  struct Loaded {
    std::vector<Stamp> stamps;
    std::shared_ptr<const SocketUnitTable> table;
  };
  static std::vector<Stamp> Restamp(const std::vector<Stamp>& stamps);
  static Loaded Read(const std::string& root);

  std::map<std::string, Loaded> loaded_;
};

}  // namespace portwarden
