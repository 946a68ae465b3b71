#pragma once

// Netlink framing shared by the sock_diag, address (RTM_GETADDR) and proc connector
// decoders: a mirror of the kernel's struct nlmsghdr (include/uapi/linux/netlink.h), the
// message types they meet, Linux's address family numbers, and the walk over the messages
// of one datagram. Pure; builds and is tested on every OS.

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"

namespace portwarden::netlink {

struct MsgHdr {  // struct nlmsghdr
  uint32_t len;
  uint16_t type;
  uint16_t flags;
  uint32_t seq;
  uint32_t pid;
};
static_assert(sizeof(MsgHdr) == 16);

inline constexpr uint16_t kNoop = 1;   // NLMSG_NOOP
inline constexpr uint16_t kError = 2;  // NLMSG_ERROR
inline constexpr uint16_t kDone = 3;   // NLMSG_DONE

inline constexpr uint8_t kAfInet = 2;    // AF_INET (Linux value)
inline constexpr uint8_t kAfInet6 = 10;  // AF_INET6 (Linux value)

constexpr size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

inline constexpr uint16_t kFlagRequest = 0x01;  // NLM_F_REQUEST
inline constexpr uint16_t kFlagDump = 0x300;    // NLM_F_ROOT | NLM_F_MATCH

struct RtAttr {  // struct rtattr (include/uapi/linux/rtnetlink.h)
  uint16_t len;
  uint16_t type;
};

/// A request: a header of `type` with `flags`, then `body` (a mirrored struct).
template <class Body>
std::vector<uint8_t> Request(uint16_t type, uint16_t flags, uint32_t seq, const Body& body) {
  MsgHdr hdr{};
  hdr.len = sizeof hdr + sizeof body;
  hdr.type = type;
  hdr.flags = flags;
  hdr.seq = seq;
  std::vector<uint8_t> out(hdr.len);
  std::memcpy(out.data(), &hdr, sizeof hdr);
  std::memcpy(out.data() + sizeof hdr, &body, sizeof body);
  return out;
}

/// A dump request: Request asking for every object of `type`.
template <class Body>
std::vector<uint8_t> DumpRequest(uint16_t type, uint32_t seq, const Body& body) {
  return Request(type, kFlagRequest | kFlagDump, seq, body);
}

/// Calls `visit(type, value)` for each attribute of `message` from `offset` on; stops at
/// one whose length does not fit (never reads past the message).
template <class Visit>
void ForEachAttr(std::span<const uint8_t> message, size_t offset, Visit&& visit) {
  while (offset + sizeof(RtAttr) <= message.size()) {
    RtAttr attr;
    std::memcpy(&attr, message.data() + offset, sizeof attr);
    if (attr.len < sizeof attr || attr.len > message.size() - offset) return;
    visit(attr.type, message.subspan(offset + sizeof attr, attr.len - sizeof attr));
    offset += Align4(attr.len);
  }
}

/// What a visitor of Walk wants after one message.
enum class Next { kContinue, kStop };

/// Calls `visit(type, payload)` (returning Expected<Next>) for each message of `datagram`
/// in order, until it answers kStop or an Error, which Walk returns. A header that does not
/// fit and an NLMSG_ERROR end the walk with an Error starting with `what` ("netlink: kernel
/// answered error 13"; the code is widened before it is negated, so a corrupt INT32_MIN
/// cannot overflow). Returns kContinue when every message was visited.
template <class Visit>
Expected<Next> Walk(std::span<const uint8_t> datagram, std::string_view what, Visit&& visit) {
  const std::string prefix = std::string(what) + ": ";
  size_t off = 0;
  while (off < datagram.size()) {
    if (datagram.size() - off < sizeof(MsgHdr)) {
      return Error{prefix + "truncated message header at offset " + std::to_string(off)};
    }
    MsgHdr hdr;
    std::memcpy(&hdr, datagram.data() + off, sizeof hdr);
    if (hdr.len < sizeof hdr || hdr.len > datagram.size() - off) {
      return Error{prefix + "message length " + std::to_string(hdr.len) + " at offset " +
                   std::to_string(off) + " does not fit the " +
                   std::to_string(datagram.size()) + "-byte datagram"};
    }
    const std::span<const uint8_t> payload = datagram.subspan(off + sizeof hdr,
                                                              hdr.len - sizeof hdr);
    off += Align4(hdr.len);
    if (hdr.type == kError) {
      int32_t err = 0;
      if (payload.size() >= sizeof err) std::memcpy(&err, payload.data(), sizeof err);
      return Error{prefix + "kernel answered error " + std::to_string(-int64_t{err})};
    }
    auto next = visit(hdr.type, payload);
    if (!next) return next.error();
    if (*next == Next::kStop) return Next::kStop;
  }
  return Next::kContinue;
}

/// Walk over one datagram of a dump's replies: `visit(payload)` (returning Expected<Next>)
/// for each message of `type`, NLMSG_DONE ends it, any other type is an error. Returns
/// whether NLMSG_DONE was seen (the dump is complete).
template <class Visit>
Expected<bool> WalkDump(std::span<const uint8_t> datagram, uint16_t type, Visit&& visit) {
  bool done = false;
  auto walked = Walk(datagram, "netlink",
                     [&](uint16_t got, std::span<const uint8_t> message) -> Expected<Next> {
                       if (got == kDone) {
                         done = true;
                         return Next::kStop;
                       }
                       if (got != type) {
                         return Error{"netlink: unexpected message type " + std::to_string(got)};
                       }
                       return visit(message);
                     });
  if (!walked) return walked.error();
  return done;
}

}  // namespace portwarden::netlink
