#include "exporter/policy/finding_tracker.h"

#include <algorithm>
#include <set>
#include <utility>

namespace portwarden::policy {

std::string_view ToString(TransitionKind kind) {
  return kind == TransitionKind::kRaised ? "raised" : "resolved";
}

FindingTracker::FindingTracker(HoldDown hold_down) : hold_down_(hold_down) {
  hold_down_.cycles = std::max(hold_down_.cycles, 1);
}

std::vector<Transition> FindingTracker::Update(const Evaluation& evaluation, TimePoint now) {
  std::vector<Transition> transitions;
  std::set<std::string> present;
  for (const Finding& finding : evaluation.findings) {
    present.insert(finding.key);
    const auto [it, inserted] = active_.try_emplace(finding.key);
    TrackedFinding& tracked = it->second;
    tracked.finding = finding;
    tracked.last_seen = now;
    tracked.absent_cycles = 0;
    if (inserted) {
      tracked.raised_at = now;
      transitions.push_back({TransitionKind::kRaised, finding, now, now});
    }
  }
  for (auto it = active_.begin(); it != active_.end();) {
    TrackedFinding& tracked = it->second;
    if (present.count(it->first) == 0 && ++tracked.absent_cycles >= hold_down_.cycles &&
        now - tracked.last_seen >= hold_down_.duration) {
      transitions.push_back(
          {TransitionKind::kResolved, std::move(tracked.finding), now, tracked.raised_at});
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  return transitions;
}

}  // namespace portwarden::policy
