#include "exporter/notifier/alert_queue.h"

#include <algorithm>

namespace portwarden::notifier {
namespace {

// Same state: both firing since the same start, or both resolved.
bool SameState(const Alert& a, const Alert& b) {
  return a.Resolved() == b.Resolved() && (a.Resolved() || a.starts_at == b.starts_at);
}

}  // namespace

std::size_t AlertQueue::Push(const std::string& target, const Alert& alert, double now) {
  QueueEntry entry{next_seq_++, target, Fingerprint(alert.labels), alert, now};
  const AlertOf of{target, entry.fingerprint};
  if (auto newest = newest_.find(of); newest != newest_.end()) {
    auto it = entries_.find(newest->second);
    if (it != entries_.end() && SameState(it->second.alert, alert)) Erase(it);
  }
  ++counts_[target];
  newest_[of] = entry.seq;
  entries_.emplace(entry.seq, std::move(entry));
  return Trim();
}

std::vector<QueueEntry> AlertQueue::Batch(const std::string& target, std::size_t max) const {
  std::vector<QueueEntry> batch;
  std::set<std::string> taken;
  for (const auto& [seq, entry] : entries_) {
    if (batch.size() >= max) break;
    if (entry.target != target || !taken.insert(entry.fingerprint).second) continue;
    batch.push_back(entry);
  }
  return batch;
}

void AlertQueue::Remove(const std::vector<uint64_t>& seqs) {
  for (uint64_t seq : seqs) {
    if (auto it = entries_.find(seq); it != entries_.end()) Erase(it);
  }
}

std::size_t AlertQueue::Retain(const std::set<std::string>& targets) {
  std::size_t dropped = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (!targets.contains(it->second.target)) {
      Erase(it);
      ++dropped;
    }
    it = next;
  }
  return dropped;
}

std::size_t AlertQueue::SetMaxEntries(std::size_t max_entries) {
  max_entries_ = max_entries;
  return Trim();
}

std::size_t AlertQueue::Restore(QueueEntry entry) {
  next_seq_ = std::max(next_seq_, entry.seq + 1);
  entry.fingerprint = Fingerprint(entry.alert.labels);
  ++counts_[entry.target];
  newest_[{entry.target, entry.fingerprint}] = entry.seq;
  entries_.emplace(entry.seq, std::move(entry));
  return Trim();
}

std::size_t AlertQueue::Count(const std::string& target) const {
  auto it = counts_.find(target);
  return it == counts_.end() ? 0 : it->second;
}

void AlertQueue::Erase(std::map<uint64_t, QueueEntry>::iterator it) {
  const AlertOf of{it->second.target, it->second.fingerprint};
  const uint64_t seq = it->first;
  if (--counts_[of.first] == 0) counts_.erase(of.first);
  entries_.erase(it);
  auto newest = newest_.find(of);
  if (newest == newest_.end() || newest->second != seq) return;
  // The newest entry went first (dropped by the bound or a reconfiguration): an older
  // entry of the same alert, if any, becomes the newest.
  newest_.erase(newest);
  for (auto r = entries_.rbegin(); r != entries_.rend(); ++r) {
    if (r->second.target == of.first && r->second.fingerprint == of.second) {
      newest_[of] = r->first;
      break;
    }
  }
}

std::size_t AlertQueue::Trim() {
  std::size_t dropped = 0;
  while (entries_.size() > max_entries_) {
    Erase(entries_.begin());
    ++dropped;
  }
  return dropped;
}

}  // namespace portwarden::notifier
