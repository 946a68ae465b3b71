#pragma once

#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/listener.h"

namespace portwarden {

/// Sockets decoded from one /proc/net/{tcp,tcp6,udp,udp6} file.
struct ProcNetTable {
  std::vector<SocketEntry> sockets;  ///< TCP in LISTEN, UDP unconnected (bound)
  int skipped = 0;                   ///< malformed lines, skipped and counted
};

/// Decodes the text of /proc/net/{tcp,tcp6,udp,udp6}. Pure: text in, values out.
/// Addresses are printed by the kernel as host-order 32-bit words; this decoder assumes
/// a little-endian kernel (x86, arm64), which is every platform portwarden runs on.
/// A missing or unrecognized header is an error; a malformed line is skipped and counted.
Expected<ProcNetTable> ParseProcNet(std::string_view text, Proto proto, Family family);

}  // namespace portwarden
