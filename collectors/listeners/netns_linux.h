#pragma once

#include "collectors/common/expected.h"

namespace portwarden {

/// Creates a socket(domain, type | SOCK_CLOEXEC, protocol) inside the network namespace
/// that nsfd (an open /proc/PID/ns/net or /run/netns/NAME) refers to. setns() moves only
/// the calling thread, so it runs on a thread of its own that ends right after: no other
/// code ever runs in the namespace. The socket stays in that namespace for its whole life,
/// so one per namespace, kept open, serves every later dump. Needs CAP_SYS_ADMIN.
/// Returns the fd (the caller owns it).
Expected<int> SocketInNetns(int nsfd, int domain, int type, int protocol);

}  // namespace portwarden
