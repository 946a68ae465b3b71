#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/listener.h"

namespace portwarden {

/// Sockets decoded from one recv() of a NETLINK_SOCK_DIAG dump.
struct InetDiagBatch {
  std::vector<SocketEntry> sockets;
  bool done = false;  ///< NLMSG_DONE seen: the dump is complete
};

/// Builds a SOCK_DIAG_BY_FAMILY dump request (struct inet_diag_req_v2) for listening TCP
/// sockets (state LISTEN only: asking for other states walks the connection table) or
/// unconnected UDP sockets (state CLOSE, what `ss -lu` shows). Pure.
std::vector<uint8_t> BuildInetDiagRequest(Proto proto, Family family, uint32_t seq);

/// Decodes one datagram of netlink messages answering BuildInetDiagRequest. Pure: bytes in,
/// sockets out; fields in host byte order as the kernel sends them. A kernel NLMSG_ERROR,
/// a header whose length overruns the buffer, or a record shorter than inet_diag_msg is an
/// error (never read out of bounds).
Expected<InetDiagBatch> DecodeInetDiag(std::span<const uint8_t> datagram, Proto proto);

}  // namespace portwarden
