#include "collectors/listeners/inet_diag.h"

#include <cstring>
#include <string>

#include "collectors/listeners/address.h"
#include "collectors/listeners/netlink.h"

namespace portwarden {
namespace {

// Mirrors of the kernel UAPI (include/uapi/linux/sock_diag.h, inet_diag.h), declared here
// so the decoder builds and is tested on every OS.
struct InetDiagSockId {  // struct inet_diag_sockid
  uint16_t sport;        // network byte order
  uint16_t dport;
  uint8_t src[16];
  uint8_t dst[16];
  uint32_t ifindex;
  uint32_t cookie[2];
};
struct InetDiagReqV2 {  // struct inet_diag_req_v2
  uint8_t family;
  uint8_t protocol;
  uint8_t ext;
  uint8_t pad;
  uint32_t states;
  InetDiagSockId id;
};
struct InetDiagMsg {  // struct inet_diag_msg
  uint8_t family;
  uint8_t state;
  uint8_t timer;
  uint8_t retrans;
  InetDiagSockId id;
  uint32_t expires;
  uint32_t rqueue;
  uint32_t wqueue;
  uint32_t uid;
  uint32_t inode;
};
static_assert(sizeof(InetDiagReqV2) == 56);
static_assert(sizeof(InetDiagMsg) == 72);

constexpr uint16_t kSockDiagByFamily = 20;   // SOCK_DIAG_BY_FAMILY
constexpr uint8_t kIpprotoTcp = 6;
constexpr uint8_t kIpprotoUdp = 17;
constexpr uint32_t kTcpListen = 10;          // TCP_LISTEN
constexpr uint32_t kTcpClose = 7;            // TCP_CLOSE: unconnected UDP
constexpr uint16_t kInetDiagSkv6only = 11;   // INET_DIAG_SKV6ONLY

}  // namespace

std::vector<uint8_t> BuildInetDiagRequest(Proto proto, Family family, uint32_t seq) {
  InetDiagReqV2 req{};
  req.family = family == Family::kIpv4 ? netlink::kAfInet : netlink::kAfInet6;
  req.protocol = proto == Proto::kTcp ? kIpprotoTcp : kIpprotoUdp;
  req.states = 1u << (proto == Proto::kTcp ? kTcpListen : kTcpClose);
  return netlink::DumpRequest(kSockDiagByFamily, seq, req);
}

Expected<InetDiagBatch> DecodeInetDiag(std::span<const uint8_t> datagram, Proto proto) {
  using netlink::Next;
  InetDiagBatch batch;
  auto done = netlink::WalkDump(
      datagram, kSockDiagByFamily, [&](std::span<const uint8_t> message) -> Expected<Next> {
        const uint8_t* payload = message.data();
        const size_t payload_len = message.size();
        if (payload_len < sizeof(InetDiagMsg)) {
          return Error{"netlink: inet_diag_msg truncated to " + std::to_string(payload_len) +
                       " bytes (need " + std::to_string(sizeof(InetDiagMsg)) + ")"};
        }
        InetDiagMsg msg;
        std::memcpy(&msg, payload, sizeof msg);
        if (msg.family != netlink::kAfInet && msg.family != netlink::kAfInet6) {
          return Error{"netlink: unknown address family " + std::to_string(msg.family)};
        }
        SocketEntry entry;
        entry.proto = proto;
        entry.family = msg.family == netlink::kAfInet ? Family::kIpv4 : Family::kIpv6;
        entry.address =
            entry.family == Family::kIpv4 ? FormatIpv4(msg.id.src) : FormatIpv6(msg.id.src);
        const auto* sport = reinterpret_cast<const uint8_t*>(&msg.id.sport);
        entry.port = static_cast<uint16_t>(sport[0] << 8 | sport[1]);
        entry.inode = msg.inode;
        entry.uid = msg.uid;
        entry.cookie = uint64_t{msg.id.cookie[1]} << 32 | msg.id.cookie[0];

        // Attributes follow the message; only the IPv6-only flag is of interest.
        netlink::ForEachAttr(message, netlink::Align4(sizeof msg),
                             [&](uint16_t type, std::span<const uint8_t> value) {
                               if (type == kInetDiagSkv6only && !value.empty()) {
                                 entry.v6only = value[0] != 0;
                               }
                             });
        if (entry.port != 0) batch.sockets.push_back(std::move(entry));
        return Next::kContinue;
      });
  if (!done) return done.error();
  batch.done = *done;
  return batch;
}

}  // namespace portwarden
