#pragma once

#include <yaml-cpp/node/node.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/listener.h"

namespace portwarden::policy {

/// One address:port/proto an expectation is about.
struct ListenSpec {
  Proto proto = Proto::kTcp;
  /// Canonical address (see CanonicalAddress), or empty for "any address": the config's
  /// "*", "0.0.0.0", "::" and "[::]" all mean any address of either family.
  std::string address;
  uint16_t port = 0;

  bool AnyAddress() const { return address.empty(); }
  bool operator==(const ListenSpec&) const = default;
};

/// "10.0.0.5:80/tcp", "[::1]:443/tcp", "*:53/udp".
std::string ToString(const ListenSpec& spec);

/// Who may hold a listener. Every field that is set must match the listener owner's main
/// process (AND); an empty pattern (`owner: {}`) matches any owner. Globs follow GlobMatch.
struct OwnerPattern {
  std::optional<std::string> process;  ///< main process name; "nginx" also matches "nginx.exe"
  std::optional<std::string> exe;      ///< executable path
  /// systemd unit / Windows service name; where the owner runs several services (a shared
  /// svchost), a comma-separated list, the pattern has to match one of them.
  std::optional<std::string> service;
  std::optional<std::string> user;  ///< account name
  std::optional<OwnerKind> kind;    ///< kProcess, kHttpSys or kKernel
  std::optional<std::string> container;  ///< Linux: container name (or short ID)
  /// Linux: the socket unit it was handed by socket activation (Owner::socket_unit), or
  /// the systemd unit it runs in.
  std::optional<std::string> unit;

  bool Matches(const Owner& owner) const;
  bool operator==(const OwnerPattern&) const = default;
};

/// Whether a listener is in the namespace an expectation names (see Expectation::netns).
bool NetnsMatches(std::string_view netns, const Listener& listener);

/// "process=nginx kind=process", or "any owner" for an empty pattern.
std::string ToString(const OwnerPattern& pattern);

/// One entry of the `expect:` section.
struct Expectation {
  std::string name;                   ///< unique; used as the `rule` of findings
  std::vector<ListenSpec> listen;     ///< at least one
  std::optional<OwnerPattern> owner;  ///< absent: the entry only declares its ports exclusive
  bool exclusive = false;             ///< every listener on these proto/ports must be expected
  /// Which network namespace's listeners the entry is about: "host" (the default: the
  /// host's, or where namespaces are unknown, e.g. Windows), "any", or a namespace's name
  /// (`ip netns` name) or inode.
  std::string netns = "host";
  std::string source;                 ///< "portwarden.yml:3:5", where the entry starts
  bool operator==(const Expectation&) const = default;
};

/// Loads the `expect:` section of the config.
///
/// Schema (a list; `expect:` absent or empty means no expectations):
/// ```yaml
/// expect:
///   - name: web                      # required, unique
///     listen: 10.0.0.5:80/tcp        # or a list; ADDR:PORT[/tcp|udp], tcp by default
///     owner:                         # any of these; all given must match
///       process: nginx*              # glob on the main process name
///       exe: /usr/sbin/nginx         # glob on the executable path
///       service: nginx.service       # glob on the systemd unit / Windows service
///       user: root                   # glob on the account
///       kind: process                # process | http.sys | kernel
///       container: web-*             # glob on the container name (Linux)
///       unit: sshd.socket            # glob on the socket unit or systemd unit (Linux)
///     exclusive: true                # optional; default false
///     netns: host                    # host (default) | any | an ip netns name or inode
///   - name: iis
///     listen: [172.16.1.1:80, 172.16.1.1:443]
///     owner: {kind: http.sys}
/// ```
/// ADDR is IPv4, [IPv6], or one of `*`, `0.0.0.0`, `::`, `[::]` meaning any address.
/// An entry needs `owner`, `exclusive: true`, or both; without `owner` it only marks its
/// ports exclusive, so the listeners there must be allowed by other entries.
///
/// Errors name the place and what was expected, e.g.
/// `portwarden.yml:7:13: expect[1].listen: invalid port "8o" (expected 1-65535)`
/// (1-based line and column, 0-based list index). Never throws.
Expected<std::vector<Expectation>> LoadExpectations(const YAML::Node& expect_node,
                                                    std::string_view file_name);

}  // namespace portwarden::policy
