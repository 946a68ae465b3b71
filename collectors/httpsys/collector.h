#pragma once

// The HTTP.sys collector: reads the HTTP.sys configuration and state through HttpSysPlatform
// into an HttpSysState, as six sub-collectors that fail independently. No OS header: tests
// run it on every OS with a fake platform. The derivations that need the listener table and
// the expectations (derive.h) are applied by the exporter, which has both.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/httpsys/derive.h"
#include "collectors/httpsys/httpsys.h"
#include "collectors/httpsys/platform.h"
#include "collectors/listeners/listener.h"

namespace portwarden::httpsys {

/// Sub-collector names, the `collector` label of portwarden_collector_success.
inline constexpr std::string_view kIpListenCollector = "httpsys_iplisten";
inline constexpr std::string_view kUrlAclCollector = "httpsys_urlacl";
inline constexpr std::string_view kSslCertCollector = "httpsys_sslcert";
inline constexpr std::string_view kRegistryCollector = "httpsys_registry";
inline constexpr std::string_view kRequestQueueCollector = "httpsys_requestq";
inline constexpr std::string_view kExcludedPortRangeCollector = "httpsys_excludedportrange";

/// Settings of the collector.
struct HttpSysOptions {
  /// Each netsh run is killed after this long (netsh can hang on a wedged HTTP service).
  std::chrono::milliseconds netsh_timeout{10000};
};

/// The TCP or UDP port exclusion list of one address family.
struct ExcludedPortRanges {
  Proto proto = Proto::kTcp;
  Family family = Family::kIpv4;
  std::vector<ExcludedPortRange> ranges;
};

/// Everything the collector read, plus what the exporter derives from it. A part that could
/// not be read is nullopt (its sub-collector failed, see HttpSysCollection::statuses).
struct HttpSysState {
  /// False where there is no HTTP.sys (Linux): nothing was collected, nothing is exported.
  bool collected = false;
  std::optional<std::vector<IpListenEntry>> iplisten_api;       ///< what the service reports
  std::optional<std::vector<IpListenEntry>> iplisten_registry;  ///< ListenOnlyList
  /// URL reservations with principals (accounts resolved where possible): the API's, or the
  /// registry's when the API failed (see urlacl_source).
  std::optional<std::vector<UrlReservation>> urlacls;
  std::string urlacl_source;  ///< "api" or "registry"; empty when urlacls is nullopt
  std::vector<UrlAclMismatch> urlacl_mismatches;        ///< API vs registry, when both were read
  std::optional<std::vector<TlsBinding>> tls_bindings;  ///< not_after set where readable
  std::optional<std::vector<RequestQueue>> queues;      ///< from netsh servicestate
  /// Name and services of every PID in `queues` (processes and controllers) that is running.
  std::map<uint32_t, ProcessIdentity> queue_processes;
  std::vector<ExcludedPortRanges> excluded_port_ranges;  ///< the lists that could be read
  /// Records and lines skipped as unreadable, per sub-collector (only non-zero counts).
  std::map<std::string, int> skipped;

  // Derived by the exporter (derive.h) once listeners and expectations are known.
  size_t attributed_listeners = 0;  ///< PID 4 listeners given to HTTP.sys
  std::optional<PendingRestart> pending_restart;
  /// nullopt when neither the listen list nor any URL could be read.
  std::optional<LatentConflicts> latent;
};

/// Outcome of one sub-collector.
struct SubCollectorStatus {
  std::string name;
  bool success = false;
  double duration_seconds = 0;
  std::string error;  ///< empty on success
};

/// Result of CollectHttpSys.
struct HttpSysCollection {
  HttpSysState state;
  std::vector<SubCollectorStatus> statuses;  ///< one per sub-collector, in a fixed order
};

/// Reads everything, sub-collector by sub-collector:
///  - httpsys_iplisten: HttpQueryServiceConfiguration(HttpServiceConfigIPListenList);
///  - httpsys_urlacl: the URL ACL store, SIDs resolved to accounts;
///  - httpsys_sslcert: the IP:port, SNI and CCS stores, certificate expiry from the store;
///  - httpsys_registry: ListenOnlyList and UrlAclInfo (also the fallback for urlacl);
///  - httpsys_requestq: `netsh http show servicestate view=requestq`;
///  - httpsys_excludedportrange: `netsh int ipv4|ipv6 show excludedportrange
///    protocol=tcp|udp` (the lists read are kept when another fails).
/// A failing part leaves its field nullopt and its status failed with the error; the others
/// go on. Never throws. Not thread-safe with respect to `platform`.
HttpSysCollection CollectHttpSys(HttpSysPlatform& platform, const HttpSysOptions& options);

}  // namespace portwarden::httpsys
