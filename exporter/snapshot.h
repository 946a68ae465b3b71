#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collectors/httpsys/collector.h"
#include "collectors/listeners/attribution.h"
#include "exporter/policy/finding_tracker.h"
#include "exporter/policy/policy.h"
#include "exporter/rendered_body.h"

namespace portwarden {

/// Outcome of one collector in one cycle.
struct CollectorStatus {
  std::string name;
  bool success = false;
  double duration_seconds = 0;
  std::string error;  ///< empty on success
};

/// One entry of the bounded history served at /api/v1/events.
struct Event {
  double time = 0;    ///< Unix seconds
  std::string type;   ///< finding_raised | finding_resolved | listener_appeared |
                      ///< listener_vanished | bind_failed
  std::string key;    ///< finding key, or proto/address/port/owner identity of a listener
  std::string kind;   ///< finding kind (finding events); empty otherwise
  std::string rule;
  Proto proto = Proto::kTcp;
  std::string address;
  uint16_t port = 0;
  std::string owner;   ///< the listener's owner, the finding's owner, or who holds the
                       ///< address a bind failed on (bind_failed)
  std::string detail;  ///< the explanation (findings, bind_failed: caller, errno, holder)
                       ///< or a short description (listeners)
};

/// Labels of one portwarden_bind_failures_total series.
struct BindFailureSeries {
  Proto proto = Proto::kTcp;
  std::string address;  ///< the address asked for
  uint16_t port = 0;
  std::string process;  ///< the caller's process name
  std::string error;    ///< "EADDRINUSE", "EACCES"
  auto operator<=>(const BindFailureSeries&) const = default;
};

/// Policy state carried from cycle to cycle, attached to each published snapshot.
struct PolicyState {
  policy::Evaluation evaluation;  ///< this cycle's raw findings and expectation status
  std::map<std::string, policy::TrackedFinding> active;  ///< raised, not yet resolved
  std::map<std::pair<Proto, uint16_t>, uint64_t> owner_changes;  ///< cumulative, bounded
  std::map<BindFailureSeries, uint64_t> bind_failures;           ///< cumulative, bounded
  /// Newest last, bounded. Events are shared between the histories of successive cycles:
  /// a new history copies pointers, not the events.
  std::shared_ptr<const std::deque<std::shared_ptr<const Event>>> events;
};

/// State of the configuration file (portwarden_config_last_reload_*).
struct ReloadStatus {
  bool successful = true;        ///< the last load or reload succeeded
  double success_timestamp = 0;  ///< Unix seconds of the last successful one
};

/// Everything one collection cycle saw. Immutable once published: scrapes and API calls
/// share it through shared_ptr<const Snapshot> and never touch the OS.
struct Snapshot {
  double timestamp = 0;  ///< Unix seconds when the cycle finished
  /// Never null. The same object as the previous snapshot's when the source reported no
  /// change: comparing pointers is then enough.
  std::shared_ptr<const ListenerSet> listeners = std::make_shared<const ListenerSet>();
  std::string listener_backend;  ///< socket table read: "netlink", "procfs", ...
  std::vector<CollectorStatus> collectors;
  httpsys::HttpSysState httpsys;  ///< HTTP.sys state and derivations (Windows; empty elsewhere)
  PolicyState policy;  ///< findings and history as of this cycle (see Monitor)
  /// What the bind watch reported since the previous cycle (failed calls, new listeners).
  std::vector<BindEvent> bind_events;
  std::string bind_source = "none";  ///< the bind watch's event source, or "none"
  uint64_t bind_events_dropped = 0;  ///< cumulative: events the source lost
  /// The listener families of /metrics (ListenerBody(listeners)), rendered and compressed
  /// at most once: the Sampler hands it from snapshot to snapshot while the listeners stay
  /// equal. Set by the Sampler before it publishes; null in a snapshot made elsewhere.
  std::shared_ptr<const RenderedBody> listener_body;
};

}  // namespace portwarden
