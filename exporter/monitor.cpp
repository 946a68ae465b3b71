#include "exporter/monitor.h"

#include <algorithm>

namespace portwarden {
namespace {

std::string ListenerKey(const Listener& l) {
  return std::string(ToString(l.proto)) + "|" + l.address + "|" + std::to_string(l.port) + "|" +
         policy::OwnerIdentity(l.owner);
}

Event FindingEvent(const char* type, const policy::Finding& f, double time) {
  Event e;
  e.time = time;
  e.type = type;
  e.key = f.key;
  e.kind = std::string(policy::ToString(f.kind));
  e.rule = f.rule;
  e.proto = f.proto;
  e.address = f.address;
  e.port = f.port;
  e.owner = f.owner;
  e.detail = f.explanation;
  return e;
}

Owner CallerOwner(const BindEvent& e) {
  return Owner{OwnerKind::kProcess, {std::make_shared<const Process>(e.caller)}, {}, {}};
}

Event ListenerEvent(bool appeared, std::string key, const Monitor::Presence& p, double time) {
  Event e;
  e.time = time;
  e.type = appeared ? "listener_appeared" : "listener_vanished";
  e.key = std::move(key);
  e.proto = p.proto;
  e.address = p.address;
  e.port = p.port;
  e.owner = p.owner;
  e.detail = appeared ? "now listening" : "stopped listening";
  return e;
}

}  // namespace

Monitor::Monitor(size_t max_ports, double bind_quiet_seconds)
    : max_ports_(max_ports),
      bind_quiet_seconds_(bind_quiet_seconds),
      tracker_(policy::HoldDown{kHoldDownCycles, std::chrono::seconds(0)}),
      events_(std::make_shared<std::deque<std::shared_ptr<const Event>>>()) {}

void Monitor::Record(std::vector<Event>& out, Event e) {
  // Copy-on-write, once per cycle with events: readers of earlier snapshots keep theirs.
  if (out.empty()) {
    events_ = std::make_shared<std::deque<std::shared_ptr<const Event>>>(*events_);
  }
  out.push_back(e);
  events_->push_back(std::make_shared<const Event>(std::move(e)));
  if (events_->size() > kMaxEvents) events_->pop_front();
}

bool Monitor::UpdateBindFailures(const Snapshot& snap, std::set<std::string>& failed_now) {
  bool changed = false;
  for (const BindEvent& e : snap.bind_events) {
    if (e.kind == BindEvent::Kind::kListening) continue;
    const std::string key = std::string(ToString(e.proto)) + "|" + e.address + "|" +
                            std::to_string(e.port) + "|" + policy::OwnerIdentity(CallerOwner(e));
    recent_failures_[key] = e;
    failed_now.insert(key);
    changed = true;
    auto& [count, last] =
        bind_failures_[{e.proto, e.address, e.port, e.caller.name, ErrnoName(e.error)}];
    ++count;
    last = e.time;
  }
  while (bind_failures_.size() > max_ports_) {
    bind_failures_.erase(std::min_element(
        bind_failures_.begin(), bind_failures_.end(),
        [](const auto& a, const auto& b) { return a.second.second < b.second.second; }));
  }
  for (auto it = recent_failures_.begin(); it != recent_failures_.end();) {
    if (it->second.time < snap.timestamp - bind_quiet_seconds_) {
      it = recent_failures_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) {
    recent_list_.clear();
    for (const auto& [key, e] : recent_failures_) recent_list_.push_back(e);
  }
  return changed;
}

std::pair<PolicyState, std::vector<Event>> Monitor::Observe(
    const Snapshot& snap, const std::vector<policy::Expectation>& expectations) {
  const auto& listeners = snap.listeners->listeners;
  PolicyState state;
  std::set<std::string> failed_now;
  const bool failures_changed = UpdateBindFailures(snap, failed_now);
  const bool quiet = !first_ && !failures_changed &&
                     (snap.listeners == previous_ || listeners == previous_->listeners) &&
                     expectations == expectations_;
  if (quiet && last_quiet_) {
    state.evaluation = last_evaluation_;  // Evaluate(L, L, E) again: the same result
  } else {
    state.evaluation =
        policy::Evaluate(listeners, first_ ? nullptr : &previous_->listeners, expectations,
                         recent_list_);
    last_evaluation_ = state.evaluation;
    if (!quiet) expectations_ = expectations;
  }
  last_quiet_ = quiet;
  std::vector<Event> out;

  auto now = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(snap.timestamp)));
  for (const auto& t : tracker_.Update(state.evaluation, now)) {
    Record(out, FindingEvent(t.kind == policy::TransitionKind::kRaised ? "finding_raised"
                                                                       : "finding_resolved",
                             t.finding, snap.timestamp));
  }

  // One bind_failed event per caller and address that failed in this cycle, from its
  // finding: the explanation names the caller, the errno and the holder.
  for (const std::string& key : failed_now) {
    const BindEvent& e = recent_failures_.at(key);
    const std::string caller = policy::DescribeOwner(CallerOwner(e));
    for (const auto& f : state.evaluation.findings) {
      if (f.kind != policy::FindingKind::kBindFailed || f.proto != e.proto ||
          f.port != e.port || f.address != e.address || f.other != caller) {
        continue;
      }
      Event event = FindingEvent("bind_failed", f, e.time);
      event.key = key;
      Record(out, std::move(event));
      break;
    }
  }

  for (const auto& f : state.evaluation.findings) {
    if (f.kind != policy::FindingKind::kChanged) continue;
    auto port = std::make_pair(f.proto, f.port);
    ++owner_changes_[port];
    last_change_[port] = snap.timestamp;
  }
  while (owner_changes_.size() > max_ports_) {
    auto oldest = std::min_element(last_change_.begin(), last_change_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    owner_changes_.erase(oldest->first);
    last_change_.erase(oldest);
  }

  // Presence: a listener not seen for kHoldDownCycles cycles has vanished. A quiet cycle
  // sees the listeners of the last one, so only entries already absent age.
  if (!quiet) {
    for (const Listener& l : listeners) {
      auto [it, inserted] = presence_.try_emplace(ListenerKey(l));
      Presence& p = it->second;
      p.absent = kSeen;
      // The description names the main PID, which may change under the same key.
      if (inserted || p.pid != l.owner.main().pid) {
        p = {l.proto, l.port, l.address, l.owner.main().pid, policy::DescribeOwner(l.owner), kSeen};
      }
      if (inserted && !first_) Record(out, ListenerEvent(true, it->first, p, snap.timestamp));
    }
  }
  if (!quiet || absent_pending_ > 0) {
    absent_pending_ = 0;
    for (auto it = presence_.begin(); it != presence_.end();) {
      Presence& p = it->second;
      if (p.absent == kSeen || (quiet && p.absent == 0)) {
        p.absent = 0;
        ++it;
      } else if (++p.absent >= kHoldDownCycles) {
        Record(out, ListenerEvent(false, it->first, p, snap.timestamp));
        it = presence_.erase(it);
      } else {
        ++absent_pending_;
        ++it;
      }
    }
  }

  if (!quiet) previous_ = snap.listeners;
  first_ = false;
  state.active = tracker_.Active();
  state.owner_changes = owner_changes_;
  for (const auto& [series, counted] : bind_failures_) state.bind_failures[series] = counted.first;
  state.events = events_;
  return {std::move(state), std::move(out)};
}

}  // namespace portwarden
