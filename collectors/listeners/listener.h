#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace portwarden {

struct SocketUnitTable;  // collectors/listeners/socket_units.h

enum class Proto { kTcp, kUdp };
enum class Family { kIpv4, kIpv6 };

/// What kind of owner holds a socket.
///  kProcess: an ordinary process; kKernel: the OS itself (Windows PID 4 "System");
///  kHttpSys: the Windows kernel HTTP listener on behalf of request queues;
///  kNat: no socket: a destination NAT rule (Linux nf_tables) forwards the port elsewhere
///   (Owner::forwards_to), the main holder being the first process of the namespace that
///   has that address, if any;
///  kUnknown: the owner could not be read (no permission, process gone, Wine).
enum class OwnerKind { kProcess, kKernel, kHttpSys, kNat, kUnknown };

std::string_view ToString(Proto proto);
std::string_view ToString(Family family);
std::string_view ToString(OwnerKind kind);

/// One socket as the OS socket table reports it, before owner attribution.
struct SocketEntry {
  Proto proto = Proto::kTcp;
  Family family = Family::kIpv4;
  std::string address;  ///< canonical text form: "0.0.0.0", "127.0.0.1", "::", "::1"
  uint16_t port = 0;
  uint64_t inode = 0;   ///< Linux socket inode (0 where unknown)
  uint64_t cookie = 0;  ///< Linux netlink socket cookie (0 where unknown)
  uint32_t uid = 0;
  uint32_t pid = 0;     ///< owning PID where the table carries it (Windows); 0 otherwise
  uint64_t netns = 0;   ///< Linux network namespace (inode of its nsfs file); 0 where unknown
  bool v6only = false;  ///< for IPv6 wildcard binds: true if it does not cover IPv4
  bool operator==(const SocketEntry&) const = default;
};

/// One process that holds a socket.
struct Process {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string name;     ///< process name (comm / image name)
  std::string exe;      ///< full executable path, empty if unreadable
  std::string user;     ///< account name, or numeric uid if it has no name
  std::string service;  ///< systemd unit / Windows service(s), empty if none
  /// Linux: the container it runs in, from its cgroup: its name where the runtime's state
  /// tells it, else the first 12 digits of its ID; empty if none.
  std::string container;
  std::string container_runtime;  ///< "docker", "podman", ... (see ContainerRef), or empty
  std::string pod;                ///< Kubernetes pod UID, or empty
  /// Linux: the names of the fds 3, 4, ... it was handed by socket activation (see
  /// ParseListenFds); empty if it was not.
  std::vector<std::string> listen_fds;
  /// Linux port proxies (docker-proxy, slirp4netns, pasta, conmon; see IsPortProxy): the network
  /// namespace it forwards its host ports into, 0 if none was found. container, runtime and
  /// pod are then those of that namespace's container: a published port shows the
  /// container it serves, not the proxy's own (none).
  uint64_t forwards_netns = 0;
  /// Linux: for a service manager (systemd as PID 1 of its PID namespace), its .socket
  /// units that listen on IP addresses, from its unit files (see SocketUnitLoader); null for
  /// every other process. Compared by pointer: the loader hands out a new table only when
  /// the units changed.
  std::shared_ptr<const SocketUnitTable> socket_units = nullptr;
  /// Linux: its PID in its own PID namespace (the last of /proc/PID/status's NSpid; 1 for a
  /// container's init), the same as pid outside containers; 0 where unknown.
  uint32_t ns_pid = 0;
  bool operator==(const Process&) const = default;
};

/// A process as read once and then shared (immutable) by every socket and listener it
/// holds: one object per process, not a copy per listener.
using ProcessRef = std::shared_ptr<const Process>;

/// Who holds a listener: a main process and every holder.
struct Owner {
  OwnerKind kind = OwnerKind::kUnknown;
  /// Every process holding the socket(s), the main one first: the holder whose parent is
  /// not a holder. Never null; empty when the owner is unknown.
  std::vector<ProcessRef> holders;
  /// The holder that passed the socket on to the main one by socket activation (systemd,
  /// a launcher; see PickHolders), also among holders; null if there is none.
  ProcessRef supervisor;
  /// Socket activation: the name of the fd the main holder was handed (systemd names it
  /// after its .socket unit, e.g. "sshd.socket", unless FileDescriptorName= is set); or,
  /// where the main holder is a service manager holding the socket itself (PID 1 waiting
  /// for the first connection, or Accept=yes), the .socket unit that lists its address
  /// (Process::socket_units). Empty otherwise.
  std::string socket_unit;
  /// The service such a manager-held socket activates (SocketUnit::service); empty otherwise.
  std::string socket_service = {};
  /// kNat: where the rule sends the port, "10.88.0.5:80" or "[fd00::5]:80"; empty otherwise.
  std::string forwards_to = {};
  /// The main holder (holders.front()), or an empty Process (PID 0) if there is none.
  const Process& main() const;
  /// The service that serves the listener: socket_service where set, else the main
  /// holder's service (its systemd unit / Windows service).
  const std::string& service() const;
  /// The same kind and the same processes, compared by value.
  bool operator==(const Owner& other) const;
};

/// Sockets sharing proto, address, port and owner: one listener (an SO_REUSEPORT group
/// counts as one listener with several sockets).
struct Listener {
  Proto proto = Proto::kTcp;
  Family family = Family::kIpv4;
  std::string address;
  uint16_t port = 0;
  bool v6only = false;
  /// Linux network namespace: the inode of its nsfs file (0 where unknown, e.g. Windows),
  /// and its name where one is known ("host", an `ip netns` name), else empty.
  uint64_t netns = 0;
  std::string netns_name;
  Owner owner;
  int sockets = 1;
  bool operator==(const Listener&) const = default;
};

/// Orders listeners by port, proto, address, namespace, then main PID, for stable output.
bool ListenerLess(const Listener& a, const Listener& b);

}  // namespace portwarden
