#pragma once

// Pure derivations from the HTTP.sys state, the listener table and the expectations: who
// really owns PID 4's ports, whether the listen list waits for a restart, and what HTTP.sys
// will bind at its next start. No OS access, no clock, no logging; thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collectors/httpsys/httpsys.h"
#include "collectors/httpsys/platform.h"
#include "collectors/listeners/listener.h"

namespace portwarden::httpsys {

/// A process behind a request queue, named for display and attribution: name from netsh's
/// image path (its file name) else from `processes`; services from netsh (newer builds list
/// them) else from `processes`, sorted and comma-joined; exe is netsh's image path. `netsh`
/// is the queue's entry for the PID, or null for a controller (netsh lists only its PID).
Process DescribeQueueProcess(uint32_t pid, const QueueProcess* netsh,
                             const std::map<uint32_t, ProcessIdentity>& processes);

/// Gives `listeners` of kind kKernel (PID 4) to HTTP.sys where a request queue has a
/// registered URL covering their address and port (UrlCoversEndpoint), TCP only:
///  - owner.kind becomes kHttpSys; owner.main() stays the socket's real holder (PID 4,
///    "System"), with `service` set to the sorted, comma-joined services of every process
///    behind the matching queues (e.g. "W3SVC,WinRM"), so `portwarden_listener_info` and
///    expectations on `service` see them;
///  - owner.holders becomes main followed by those processes (queue processes, then
///    controllers such as IIS WAS), each once, as DescribeQueueProcess names them.
/// A PID 4 listener no queue covers
/// (SMB, a kernel driver) stays kKernel. Returns the number of listeners attributed.
size_t AttributeHttpSysListeners(std::vector<Listener>& listeners,
                                 const std::vector<RequestQueue>& queues,
                                 const std::map<uint32_t, ProcessIdentity>& processes);

/// Whether the IP listen list waits for HTTP.sys to restart.
struct PendingRestart {
  bool pending = false;
  std::vector<std::string> reasons;  ///< one sentence per difference; empty when not pending
};

/// The configured IP listen list: the registry's (what HTTP.sys reads when it starts) when
/// it was read, else the API's; null when neither was.
const std::vector<IpListenEntry>* ConfiguredListenList(
    const std::optional<std::vector<IpListenEntry>>& api,
    const std::optional<std::vector<IpListenEntry>>& registry);

/// HTTP.sys reads its listen list only when it starts, so an edited list silently waits for
/// a restart (or reboot). Pending when:
///  - the registry's ListenOnlyList and the list the HTTP service reports (API) differ as
///    address sets (someone edited the registry, or a GPO did), or
///  - a kHttpSys listener in `listeners` sits on an address the configured list does not
///    give it: not on the list, or, with an empty list (bind all), not 0.0.0.0 / ::.
/// `listeners` is null when the listener table or the request queues could not be read
/// (without attribution no listener is known to be HTTP.sys's). nullopt when nothing could
/// be compared. Addresses compare canonically ("0::0" equals "::").
std::optional<PendingRestart> CheckPendingRestart(
    const std::optional<std::vector<IpListenEntry>>& api,
    const std::optional<std::vector<IpListenEntry>>& registry,
    const std::vector<Listener>* listeners);

/// An address:port (TCP) that an expectation gives to an owner other than HTTP.sys.
struct AddressClaim {
  std::string rule;     ///< the expectation's name
  std::string address;  ///< canonical; empty for any address
  uint16_t port = 0;
};

/// HTTP.sys will bind an address a claim covers.
struct LatentConflict {
  std::string rule;
  std::string address;  ///< the claimed address, "*" for any
  uint16_t port = 0;
  std::string bind;               ///< the address HTTP.sys will bind on the port
  std::vector<std::string> urls;  ///< registrations and reservations that make it bind
};

/// Result of FindLatentConflicts.
struct LatentConflicts {
  std::vector<LatentConflict> conflicts;  ///< sorted by port, address, rule
  /// URLs of reservations on a port with a conflict: a registration under any of them makes
  /// HTTP.sys bind an address another owner is expected to hold. Sorted, unique.
  std::vector<std::string> unexpected_reservations;
};

/// What HTTP.sys will bind at its next start, from the configured listen list, against the
/// claims. HTTP.sys binds, on every port that has a registered URL or a URL reservation
/// (anyone granted a reservation can register under it at any time), every address of the
/// listen list, or 0.0.0.0 and :: when the list is empty; IP-bound URLs change what traffic
/// reaches a queue, not what is bound. A bind conflicts with a claim when it is the claimed
/// address, or 0.0.0.0 (::) and the claim is IPv4 (IPv6), or the claim is for any address.
/// Unparsable URLs and list entries are ignored. One conflict per claim, with the first
/// covering bind.
LatentConflicts FindLatentConflicts(const std::vector<IpListenEntry>& listen_list,
                                    const std::vector<std::string>& registered_urls,
                                    const std::vector<UrlReservation>& reservations,
                                    const std::vector<AddressClaim>& claims);

/// A URL reservation on which the HTTP service (API) and the registry disagree.
struct UrlAclMismatch {
  std::string url;
  /// "api_only": the service has it, the registry not (it is gone at the next start);
  /// "registry_only": written to the registry behind the service's back (it appears at the
  /// next start); "rights": both have it with different principals or rights.
  std::string difference;
  bool operator==(const UrlAclMismatch&) const = default;
};

/// Compares the reservations the HTTP service reports with those in the registry. URLs match
/// case-insensitively (HTTP.sys matches them so); principals by SID (the trustee where no SID
/// is known) and listen/delegate rights, in any order. Sorted by URL.
std::vector<UrlAclMismatch> CompareReservations(const std::vector<UrlReservation>& api,
                                                const std::vector<UrlReservation>& registry);

}  // namespace portwarden::httpsys
