#pragma once

// Plain types for the HTTP.sys configuration and state, plus the URL and SDDL helpers that
// interpret them. No OS header: the same values come from `netsh http show ...` text (see
// netsh_parse.h), from HttpQueryServiceConfiguration records (http_config.h) and from the
// registry (registry.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"

namespace portwarden::httpsys {

/// One address on the HTTP.sys IP listen list. When the list is empty HTTP.sys binds the
/// wildcard addresses (0.0.0.0 and ::) for every port that has a registration; when it is not,
/// only the listed addresses.
struct IpListenEntry {
  std::string address;  ///< as netsh prints it: "10.0.0.5", "::"
};

/// One principal of a URL reservation, from one ACE of its SDDL.
struct UrlAclPrincipal {
  std::string account;    ///< as netsh printed it ("NT SERVICE\WinRM", "\Everyone"); localized;
                          ///< empty when the text did not name it
  std::string trustee;    ///< as the SDDL names it: an alias ("WD", "BU") or a SID string
  std::string sid;        ///< the SID string: `trustee` itself, or the well-known alias resolved;
                          ///< empty for aliases relative to a domain ("DA") that need one
  bool listen = false;    ///< GX or GA: may register URLs under the reservation
  bool delegate = false;  ///< GW or GA: may delegate sub-trees to other accounts
  bool operator==(const UrlAclPrincipal&) const = default;
};

/// One URL reservation (`netsh http add urlacl`): who may register URLs under a prefix.
struct UrlReservation {
  std::string url;   ///< as printed; reservations keep the case they were made with
  std::string sddl;  ///< the security descriptor, re-joined if the console wrapped it
  std::vector<UrlAclPrincipal> principals;  ///< one per ACE, in SDDL order
};

/// What a TLS binding is keyed on.
///  kIpPort: an address and port ("0.0.0.0:443", "[::]:443");
///  kHostnamePort: a TLS SNI host name and port ("adfs.contoso.com:443");
///  kCcs: a port whose certificates come from the IIS Central Certificate Store.
enum class TlsBindingKind { kIpPort, kHostnamePort, kCcs };

/// A "label : value" line of a TLS binding that has no typed field, kept for display.
struct TlsOption {
  std::string label;  ///< localized, as printed
  std::string value;  ///< as printed; empty for a sub-heading ("Extended Properties:")
  bool operator==(const TlsOption&) const = default;
};

/// One TLS binding (`netsh http add sslcert`).
struct TlsBinding {
  TlsBindingKind kind = TlsBindingKind::kIpPort;
  std::string endpoint;  ///< as printed: "0.0.0.0:443", "adfs.contoso.com:443", "443" (CCS)
  std::string host;      ///< address without brackets ("::") or host name; empty for kCcs
  uint16_t port = 0;
  std::string cert_hash;  ///< SHA-1 thumbprint, 40 lower-case hex digits; empty if none shown
  std::string app_id;     ///< "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" as printed
  std::string store;      ///< certificate store name ("MY"); empty when netsh shows "(null)"
  std::vector<TlsOption> options;  ///< every other line, in order (revocation, flags, ...)
  /// The certificate's NotAfter as Unix seconds, where the collector could read it from the
  /// local machine store; never set by the parsers.
  std::optional<int64_t> not_after;
};

/// A process attached to a request queue.
struct QueueProcess {
  uint32_t pid = 0;
  std::string image;                  ///< executable path; empty when netsh shows "<?>"
  std::vector<std::string> services;  ///< Windows services hosted by it (newer netsh only)
  bool operator==(const QueueProcess&) const = default;
};

/// A request queue: where HTTP.sys delivers the requests for the URLs registered on it.
struct RequestQueue {
  std::string name;     ///< empty for an unnamed queue (HTTP Server API 1.0 and most services)
  std::string version;  ///< HTTP Server API version of the queue, "1.0" or "2.0"
  std::vector<QueueProcess> processes;
  std::optional<uint32_t> controller_pid;  ///< IIS WAS, which owns an app pool's queue
  /// Registered URLs, upper-case as netsh prints them; IP-bound registrations in
  /// "HTTP://HOST:PORT:IP/" form.
  std::vector<std::string> urls;
  /// True when `urls` was not listed under the queue but taken from the URL groups that name
  /// it (the older session view lists URLs only there).
  bool urls_from_groups = false;
};

/// A URL group: a set of registered URLs routed to one request queue.
struct UrlGroup {
  std::string id;  ///< 16 hex digits, as printed
  /// Name of the queue it routes to: "" for an unnamed queue, nullopt if it names none.
  std::optional<std::string> request_queue;
  std::vector<std::string> urls;  ///< as printed
};

/// One range of the TCP/UDP port exclusion list (`netsh int ipv4 show excludedportrange`):
/// ports nobody may bind, reserved by an administrator or by Hyper-V, WinNAT, ...
struct ExcludedPortRange {
  uint16_t start = 0;
  uint16_t end = 0;           ///< inclusive
  bool administered = false;  ///< added with `netsh int ... add excludedportrange` (the `*`)
  bool operator==(const ExcludedPortRange&) const = default;
};

/// The host part of an HTTP.sys URL.
///  kStrongWildcard "+": any host name, before the specific registrations;
///  kWeakWildcard "*": any host name, after them;
///  kHostname, kIpv4, kIpv6: that host (an IP literal makes the registration IP-bound).
enum class UrlHostKind { kStrongWildcard, kWeakWildcard, kHostname, kIpv4, kIpv6 };

/// An HTTP.sys URL prefix, split. Registrations (servicestate) and reservations (urlacl) use
/// the same syntax: scheme://host:port[:ip]/path/.
struct HttpSysUrl {
  std::string scheme;  ///< "http" or "https"
  UrlHostKind host_kind = UrlHostKind::kStrongWildcard;
  std::string host;  ///< "+", "*", lower-case host name, IPv4, or "[IPv6]"
  uint16_t port = 0;
  std::string ip;    ///< the IP of the "host:port:ip" form, without brackets; empty otherwise
  std::string path;  ///< starts and ends with '/', case kept
};

/// Splits an HTTP.sys URL. Errors name the URL and what was expected: a scheme other than
/// http/https, a missing or out-of-range port (1-65535), a bad host or IP, a path that does
/// not end with '/' (HTTP.sys requires it; a cut-off URL fails here). Pure; thread-safe.
Expected<HttpSysUrl> ParseHttpSysUrl(std::string_view url);

/// True if a connection accepted by HTTP.sys on listener `address`:`port` can be routed to
/// registration `url`, i.e. the registration is a reason for that listener.
/// Wildcard (+, *) and host-name registrations bind every address on the IP listen list, so
/// they cover any address; an IP-bound registration (the host:port:ip form, or an IP-literal
/// host) covers only its IP, and the wildcard address of its family that HTTP.sys binds when
/// the listen list is empty. `address` is text ("0.0.0.0", "::", "[::1]"); an unparsable
/// address covers nothing. Pure; thread-safe.
bool UrlCoversEndpoint(const HttpSysUrl& url, std::string_view address, uint16_t port);

/// Decodes the DACL of a URL reservation's SDDL ("D:(A;;GX;;;WD)") into one principal per ACE
/// with its listen/delegate rights (GX listen, GW delegate, GA both; hex masks too) and its
/// trustee, well-known aliases resolved to SIDs. Accounts stay empty: only netsh's text names
/// them. Errors: no DACL, an unterminated or malformed ACE, an ACE type other than allow (A),
/// a bad trustee. Owner, group and SACL parts are skipped. Pure; thread-safe.
Expected<std::vector<UrlAclPrincipal>> DecodeSddl(std::string_view sddl);

}  // namespace portwarden::httpsys
