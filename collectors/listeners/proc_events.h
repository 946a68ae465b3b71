#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "collectors/common/expected.h"

namespace portwarden {

/// One process lifecycle event from the Linux proc connector, reduced to what owner
/// attribution needs. Events about single threads (a thread started or ended inside a
/// process) are not represented: only whole processes hold fd tables of their own.
struct ProcEvent {
  enum class Kind {
    kFork,  ///< pid was created by parent (fork/clone without CLONE_THREAD)
    kExec,  ///< pid ran execve: close-on-exec fds are gone, name and exe changed
    kExit,  ///< pid's main thread ended: its fd table is no longer visible in /proc
    kUid,   ///< pid changed its user ids
    kComm,  ///< pid renamed itself (prctl PR_SET_NAME)
  };
  Kind kind = Kind::kFork;
  uint32_t pid = 0;     ///< the process (thread group id); the child for kFork
  uint32_t parent = 0;  ///< kFork only: the process that forked
};

/// Builds the NETLINK_CONNECTOR datagram that subscribes to (listen = true) or
/// unsubscribes from (listen = false) proc events: PROC_CN_MCAST_LISTEN / _IGNORE. Pure.
std::vector<uint8_t> BuildProcEventsControl(bool listen, uint32_t seq);

/// Decodes one datagram received from the proc connector's multicast group. Messages of
/// other connector users and event types attribution does not need (gid, sid, ptrace,
/// coredump, acks) are skipped. Pure: bytes in, events out. A netlink header whose length
/// overruns the datagram, a connector payload length that overruns its message, or an
/// event record shorter than its type requires is an error (never read out of bounds).
Expected<std::vector<ProcEvent>> DecodeProcEvents(std::span<const uint8_t> datagram);

}  // namespace portwarden
