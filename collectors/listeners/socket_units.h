#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/listeners/listener.h"

namespace portwarden {

/// One IP address a .socket unit listens on (ListenStream= for TCP, ListenDatagram= for
/// UDP). address is canonical ("127.0.0.1", "::1"), or empty for a port alone: systemd then
/// binds the wildcard, [::] (covering IPv4 unless BindIPv6Only=ipv6-only) or 0.0.0.0
/// where IPv6 is off.
struct SocketUnitListen {
  Proto proto = Proto::kTcp;
  std::string address;
  uint16_t port = 0;
  bool operator==(const SocketUnitListen&) const = default;
};

/// A systemd .socket unit as its unit file and drop-ins define it.
struct SocketUnit {
  std::string name;     ///< "ssh.socket"
  /// The service its connections activate: Service=, else the unit's own name with
  /// .service, or NAME@.service (a template: one instance per connection) with Accept=yes.
  std::string service;
  bool accept = false;
  std::vector<SocketUnitListen> listens;  ///< IP listens only (no AF_UNIX, netlink, FIFOs)
  bool operator==(const SocketUnit&) const = default;
};

/// The units of one service manager that listen on IP addresses, sorted by name.
struct SocketUnitTable {
  std::vector<SocketUnit> units;
  bool operator==(const SocketUnitTable&) const = default;
};

/// Parses a .socket unit named `name` from its file's text and then its drop-ins' texts in
/// order (systemd.syntax(7): sections, '#'/';' comments, '\' continuations; an empty
/// assignment such as "ListenStream=" resets the list). Only the [Socket] keys that place
/// or route a listener are read: ListenStream=, ListenDatagram=, Accept=, Service=.
/// Values systemd would reject, values with specifiers ("%i") and non-IP listens are left
/// out, as systemd leaves out what it cannot use. Pure.
SocketUnit ParseSocketUnit(std::string_view name, std::span<const std::string> texts);

/// The unit of `table` whose listens hold `socket` (same proto and port; same address, or
/// a port alone and a wildcard address); the first by name if several do; null if none.
/// Pure.
const SocketUnit* MatchSocketUnit(const SocketUnitTable& table, const SocketEntry& socket);

}  // namespace portwarden
