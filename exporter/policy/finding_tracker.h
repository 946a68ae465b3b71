#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/policy/policy.h"

namespace portwarden::policy {

using TimePoint = std::chrono::system_clock::time_point;

/// How long a raised finding must stay away before it counts as resolved.
struct HoldDown {
  int cycles = 3;                    ///< consecutive evaluations without it; below 1 acts as 1
  std::chrono::seconds duration{0};  ///< and at least this long since it was last seen
};

enum class TransitionKind { kRaised, kResolved };

/// "raised", "resolved".
std::string_view ToString(TransitionKind kind);

/// A finding starting or ending.
struct Transition {
  TransitionKind kind = TransitionKind::kRaised;
  Finding finding;      ///< as last seen
  TimePoint at;         ///< timestamp of the evaluation that caused the transition
  TimePoint raised_at;  ///< when the finding was raised (== at for kRaised)
};

/// A raised finding that has not been resolved.
struct TrackedFinding {
  Finding finding;  ///< as last seen
  TimePoint raised_at;
  TimePoint last_seen;
  int absent_cycles = 0;  ///< > 0 while it is gone but still inside the hold-down
};

/// Turns successive Evaluations into raised/resolved transitions, keyed by Finding::key.
///
/// Hold-down rule:
///  - A finding is raised by the first evaluation that contains its key. There is no delay
///    before raising: how long a condition must last before it pages is the job of the
///    Prometheus rule's `for:`.
///  - A raised finding is resolved only when it has been absent from at least
///    `HoldDown::cycles` consecutive evaluations and `HoldDown::duration` has passed since it
///    was last seen.
///  - If it comes back before that, nothing is emitted and it keeps its raised_at: a re-raise
///    inside the hold-down is merged into the open finding, so a listener flapping faster
///    than the hold-down gives one raise and, once it settles, one resolve.
///  - After a resolve, the next appearance is a new raise.
/// `changed` findings last one evaluation, so they are raised once and resolved after the
/// hold-down; treat their raise as the event.
///
/// Pure: the caller passes the time. Not thread-safe; feed it from one sampling loop, in time
/// order.
class FindingTracker {
 public:
  explicit FindingTracker(HoldDown hold_down = {});

  /// Feeds the evaluation made at `now`. Returns raises (in the evaluation's order), then
  /// resolves (in key order).
  std::vector<Transition> Update(const Evaluation& evaluation, TimePoint now);

  /// Raised findings not resolved yet, including those inside the hold-down, by key.
  const std::map<std::string, TrackedFinding>& Active() const { return active_; }

 private:
  HoldDown hold_down_;
  std::map<std::string, TrackedFinding> active_;
};

}  // namespace portwarden::policy
