#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "collectors/common/expected.h"
#include "collectors/listeners/listener.h"

namespace portwarden {

/// One bind(2) or listen(2) the kernel reported to the bind watch: a call that failed with
/// EADDRINUSE or EACCES, or a TCP socket that started listening.
struct BindEvent {
  enum class Kind {
    kBindFailed,    ///< bind() failed; address and port are the ones asked for
    kListenFailed,  ///< listen() failed; address and port are the socket's bind
    kListening,     ///< a TCP socket entered LISTEN (a new listener)
  };
  Kind kind = Kind::kBindFailed;
  double time = 0;  ///< Unix seconds, when user space received it
  Proto proto = Proto::kTcp;
  Family family = Family::kIpv4;
  std::string address;  ///< canonical text form, as in SocketEntry
  uint16_t port = 0;
  int error = 0;  ///< Linux errno of the failed call (98 EADDRINUSE, 13 EACCES); 0 for kListening
  /// The calling process: pid and name (comm) from the kernel; exe, user, unit and
  /// container read from /proc while it still runs (empty if it was gone by then).
  Process caller;
  bool operator==(const BindEvent&) const = default;
};

/// "EADDRINUSE", "EACCES", or "errno N" for another Linux errno value (Linux numbering on
/// every OS: the events come from a Linux kernel).
std::string ErrnoName(int error);

/// "bind" or "listen": the call that failed.
std::string_view CallName(BindEvent::Kind kind);

/// Size of one record of the kernel program (bindwatch.bpf.c).
inline constexpr size_t kBindRecordSize = 56;

/// Decodes one ring-buffer record of bindwatch.bpf.c (host byte order):
///   u32 kind (1 bind failed, 2 listen failed, 3 listening) | u32 tgid | s32 errno |
///   u16 family (2 AF_INET, 10 AF_INET6) | u16 port | u8 address[16] (IPv4: first 4) |
///   u8 IP protocol (6 TCP, 17 UDP) | 7 bytes padding | char comm[16] (NUL-padded).
/// `time` is left 0 and `caller` holds pid and name only. Pure. A record of another size,
/// an unknown kind, family or protocol is an error.
Expected<BindEvent> DecodeBindRecord(std::span<const uint8_t> record);

}  // namespace portwarden
