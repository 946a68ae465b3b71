#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/attribution.h"

namespace portwarden {

/// The thin OS layer of the listener collector: one implementation per platform
/// (source_linux.cpp, source_windows.cpp). Not thread-safe: one sampling loop calls it.
class ListenerSource {
 public:
  virtual ~ListenerSource() = default;

  /// Every listening TCP socket and bound UDP socket with the processes holding it.
  /// Sockets whose owner cannot be read are returned with no holders, never dropped.
  /// A source may return the previous sample's pointer when nothing has changed since.
  virtual Expected<OwnedSockets> Sample() = 0;

  /// The socket table the last Sample() read, e.g. "netlink", "procfs".
  virtual std::string Backend() const = 0;
};

/// Options of the platform source.
struct SourceOptions {
  std::string proc_root = "/proc";  ///< Linux: where procfs is mounted (tests point elsewhere)
  bool use_netlink = true;          ///< Linux: false forces the /proc/net fallback
};

/// The source for the platform this binary was built for.
std::unique_ptr<ListenerSource> MakeListenerSource(const SourceOptions& options);

}  // namespace portwarden
