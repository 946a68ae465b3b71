#pragma once

// The exporter's side of HTTP.sys: folding a collection into the snapshot (with the
// derivations that need the listener table and the expectations), its metric families, its
// JSON and its section of the status page. Everything here is pure: no OS access.

#include <nlohmann/json.hpp>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "collectors/httpsys/collector.h"
#include "exporter/policy/expectations.h"
#include "exporter/snapshot.h"

namespace portwarden {

/// The TCP address:ports that expectations give to someone other than HTTP.sys: every
/// listen entry of an expectation with an owner pattern, unless the pattern names kind
/// http.sys or matches the bare HTTP.sys owner (kind http.sys, "System", PID 4), as an empty
/// pattern does. Entries of exclusive-only expectations (no owner) claim nothing.
std::vector<httpsys::AddressClaim> HttpSysClaims(
    const std::vector<policy::Expectation>& expectations);

/// Folds one HTTP.sys collection into `snap`, whose listeners were collected already:
/// appends the sub-collector statuses to snap.collectors, gives PID 4 listeners covered by a
/// request queue to HTTP.sys (AttributeHttpSysListeners; only when the listener collector and
/// the request queues both succeeded), then sets pending_restart and latent from the listen
/// lists, the URLs and HttpSysClaims(expectations). Must run before the policy sees `snap`.
void ApplyHttpSys(Snapshot& snap, httpsys::HttpSysCollection collection,
                  const std::vector<policy::Expectation>& expectations);

/// Appends the portwarden_httpsys_* and portwarden_excluded_port_range_info families for
/// `snap.httpsys`; nothing where HTTP.sys was not collected (Linux). A part that could not be
/// read has its family without series (portwarden_collector_success says why). Label sets are
/// unique; their number is bounded by the host's HTTP.sys configuration (reservations, TLS
/// bindings, request queues and their processes, excluded ranges), not by traffic.
void AppendHttpSysMetrics(const Snapshot& snap, std::vector<prometheus::MetricFamily>& out);

/// The `queue` label of each request queue, in order: its name, or for an unnamed queue
/// "unnamed:<lowest PID behind it>" ("unnamed" when it has none), with "#2", "#3", ...
/// appended to repeats so every queue has its own series.
std::vector<std::string> QueueLabels(const std::vector<httpsys::RequestQueue>& queues);

/// One URL reservation, TLS binding or excluded port range as JSON: the records of
/// HttpSysJson and of `portwarden decode urlacl|sslcert|excludedportrange`.
nlohmann::json UrlReservationJson(const httpsys::UrlReservation& reservation);
nlohmann::json TlsBindingJson(const httpsys::TlsBinding& binding);
nlohmann::json ExcludedPortRangeJson(const httpsys::ExcludedPortRange& range);

/// `snap.httpsys` as JSON (the "httpsys" member of the snapshot JSON); null where HTTP.sys
/// was not collected.
nlohmann::json HttpSysJson(const httpsys::HttpSysState& state);

/// The HTTP.sys section of the status page: listen lists, request queues, TLS bindings
/// with their expiry as of `now` (Unix seconds), URL reservations; empty where HTTP.sys was
/// not collected.
std::string HttpSysLandingSection(const httpsys::HttpSysState& state, double now);

}  // namespace portwarden
