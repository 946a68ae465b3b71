#pragma once

#include <string>
#include <vector>

#include "collectors/listeners/attribution.h"

namespace portwarden {

/// Outcome of one collector in one cycle.
struct CollectorStatus {
  std::string name;
  bool success = false;
  double duration_seconds = 0;
  std::string error;  ///< empty on success
};

/// Everything one collection cycle saw. Immutable once published: scrapes and API calls
/// share it through shared_ptr<const Snapshot> and never touch the OS.
struct Snapshot {
  double timestamp = 0;  ///< Unix seconds when the cycle finished
  ListenerSet listeners;
  std::string listener_backend;  ///< socket table read: "netlink", "procfs", ...
  std::vector<CollectorStatus> collectors;
};

}  // namespace portwarden
