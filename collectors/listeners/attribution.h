#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "collectors/listeners/listener.h"

namespace portwarden {


/// A socket with every process holding it (empty: owner unreadable or gone).
struct OwnedSocket {
  SocketEntry socket;
  std::vector<ProcessRef> holders;  ///< never null
  /// The fd each holder holds it at (its lowest), parallel to holders; may be empty where
  /// the OS does not tell (Windows).
  std::vector<int32_t> fds;
  OwnerKind kind = OwnerKind::kProcess;  ///< used when holders is not empty
  std::string netns_name;  ///< name of socket.netns where one is known (see Listener)
  /// kNat: no socket but a NAT rule; where it forwards (Owner::forwards_to). The owner is
  /// then known (kNat) even without holders.
  std::string forwards_to;
};

/// One sample of every socket, immutable once made: a source hands out the same pointer
/// again when nothing changed, so that consumers can skip rebuilding what they derive.
using OwnedSockets = std::shared_ptr<const std::vector<OwnedSocket>>;

/// An inclusive port range, e.g. 8000-8100 or a single port.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool operator==(const PortRange&) const = default;
};

/// Which listeners become series. An empty include list means every port.
struct ListenerFilter {
  std::vector<PortRange> include;
  std::vector<PortRange> exclude;
  size_t max_series = 5000;  ///< hard cap on listener series; the rest is counted, not shown
  bool operator==(const ListenerFilter&) const = default;
};

/// Listeners after grouping, filtering and the cap.
struct ListenerSet {
  std::vector<Listener> listeners;  ///< sorted by ListenerLess, at most max_series
  size_t tcp = 0;                   ///< listeners after the port filters, before the cap
  size_t udp = 0;
  size_t unattributed_tcp = 0;      ///< of those, with an unknown owner
  size_t unattributed_udp = 0;
  size_t dropped = 0;               ///< listeners the cap left out
};

/// Picks the root holder: the one whose parent is not itself a holder (nginx master, not
/// its workers); the lowest PID among several such. Returns its index in holders.
size_t MainHolderIndex(const std::vector<ProcessRef>& holders);

/// Whether holder i got the socket by socket activation: its LISTEN_FDS (see
/// Process::listen_fds) cover the fd it holds the socket at (any fd where fds is empty).
bool ActivatedHolder(const OwnedSocket& owned, size_t i);

/// The serving holder and the supervisor of a socket. Where some holders got it by socket
/// activation, the serving one is the innermost of those (no activated holder is its child:
/// sshd under systemd, a service under a chain of launchers) and the supervisor is the root
/// holder (MainHolderIndex: PID 1, the launcher) if that is another process. Otherwise the
/// serving one is the root holder and there is no supervisor (npos).
struct HolderRoles {
  size_t main = 0;
  size_t supervisor = static_cast<size_t>(-1);
};
HolderRoles PickHolders(const OwnedSocket& owned);

/// Groups sockets sharing proto, address, port, namespace and owner into one listener each (an
/// SO_REUSEPORT group becomes one listener with a socket count), applies the port filters
/// and the cap. Pure.
ListenerSet BuildListeners(const std::vector<OwnedSocket>& sockets, const ListenerFilter& filter);

/// BuildListeners across cycles: a sample the source handed out again (the same pointer,
/// see OwnedSockets) under the same filter gives the last result back without a rebuild.
class ListenerBuilder {
 public:
  std::shared_ptr<const ListenerSet> Build(const OwnedSockets& sample,
                                           const ListenerFilter& filter);

 private:
  OwnedSockets sample_;
  ListenerFilter filter_;
  std::shared_ptr<const ListenerSet> built_;
};

}  // namespace portwarden
