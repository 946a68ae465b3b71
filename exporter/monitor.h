#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "exporter/snapshot.h"

namespace portwarden {

/// Turns successive snapshots into findings with hold-down, owner-change counters and an
/// event history. Pure apart from its own state: no OS, no clock (the snapshot's timestamp
/// is the time), no logging. Not thread-safe: the sampling loop owns it.
///
/// Hold-down (so a flapping listener does not spam): a finding is raised at once and
/// resolved only after it was absent for 3 consecutive cycles; a listener "vanished" event
/// also waits 3 absent cycles, and a listener that comes back within them makes no event.
///
/// Failed binds (Snapshot::bind_events): each caller's latest failure on an address stays
/// before the policy for `bind_quiet_seconds`, so its bind_failed finding resolves once the
/// caller stopped failing for that long (plus the hold-down). A cycle makes one bind_failed
/// event per caller and address however often it failed, and counts every failure.
class Monitor {
 public:
  static constexpr int kHoldDownCycles = 3;
  static constexpr size_t kMaxEvents = 1000;

  static constexpr double kBindQuietSeconds = 300;
  /// `max_ports` bounds owner_changes and bind_failures (the listener series cap): the
  /// least recently changed port or failed series is forgotten first.
  explicit Monitor(size_t max_ports = 5000, double bind_quiet_seconds = kBindQuietSeconds);

  /// Evaluates `snap` against the expectations and the previous cycle. Returns the state to
  /// publish with it and the events this cycle produced (already in the history).
  std::pair<PolicyState, std::vector<Event>> Observe(
      const Snapshot& snap, const std::vector<policy::Expectation>& expectations);

 /// What is kept of a listener seen recently, enough for its events (one per listener:
  /// kept small).
  struct Presence {
    Proto proto = Proto::kTcp;
    uint16_t port = 0;
    std::string address;
    uint32_t pid = 0;   ///< main PID that `owner` describes
    std::string owner;  ///< policy::DescribeOwner
    int absent = 0;     ///< cycles in a row without it; kSeen: seen this cycle
  };
  static constexpr int kSeen = -1;

 private:
  void Record(std::vector<Event>& out, Event e);
  /// Takes in this cycle's failed binds; true if the policy's input changed.
  bool UpdateBindFailures(const Snapshot& snap, std::set<std::string>& failed_now);

  size_t max_ports_;
  double bind_quiet_seconds_;
  std::map<std::string, BindEvent> recent_failures_;  // by caller identity and address
  std::vector<BindEvent> recent_list_;                // its values, as the policy takes them
  std::map<BindFailureSeries, std::pair<uint64_t, double>> bind_failures_;  // count, last time
  policy::FindingTracker tracker_;
  std::shared_ptr<const ListenerSet> previous_ = std::make_shared<const ListenerSet>();
  bool first_ = true;
  // A quiet cycle (nothing changed) costs a comparison, not an evaluation: Evaluate is a
  // pure function of (listeners, previous listeners, expectations).
  std::vector<policy::Expectation> expectations_;  // of the last cycle
  bool last_quiet_ = false;     // the last cycle saw the same input as the one before it
  policy::Evaluation last_evaluation_;
  size_t absent_pending_ = 0;   // presence entries counting down to "vanished"
  std::map<std::string, Presence> presence_;
  std::map<std::pair<Proto, uint16_t>, uint64_t> owner_changes_;
  std::map<std::pair<Proto, uint16_t>, double> last_change_;
  std::shared_ptr<std::deque<std::shared_ptr<const Event>>> events_;
};

}  // namespace portwarden
