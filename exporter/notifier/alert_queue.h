#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "exporter/notifier/alert.h"

namespace portwarden::notifier {

/// One alert waiting for one receiver.
struct QueueEntry {
  uint64_t seq = 0;         ///< unique, increasing: queue order
  std::string target;       ///< the receiver's URL as configured
  std::string fingerprint;  ///< Fingerprint(alert.labels)
  Alert alert;
  double enqueued_at = 0;  ///< Unix seconds

  bool operator==(const QueueEntry&) const = default;
};

/// The bounded FIFO of alert states not yet accepted by their receiver. Pure: no OS, no
/// clock. Not thread-safe (the Notifier locks around it).
///
/// Rules:
///  - Every change of state (raise, resolve, raise again) of an alert is its own entry, so
///    each receiver sees every transition, in order.
///  - A copy in the same state as the alert's newest queued entry (a resend while the
///    receiver is down) replaces that entry: the queue holds one entry per state, not one
///    per resend.
///  - Over max_entries the oldest entries are dropped; the caller counts them.
class AlertQueue {
 public:
  explicit AlertQueue(std::size_t max_entries) : max_entries_(max_entries) {}

  /// Queues `alert` for `target`; returns how many old entries the bound dropped.
  std::size_t Push(const std::string& target, const Alert& alert, double now);

  /// Up to `max` of the oldest entries of `target`, at most one per alert: a later state
  /// waits for the next batch, so it cannot overtake the earlier one.
  std::vector<QueueEntry> Batch(const std::string& target, std::size_t max) const;

  /// Removes the entries with these seqs (ignoring those already gone).
  void Remove(const std::vector<uint64_t>& seqs);

  /// Drops the entries of targets not in `targets`; returns how many.
  std::size_t Retain(const std::set<std::string>& targets);

  /// Changes the bound; returns how many of the oldest entries were dropped to meet it.
  std::size_t SetMaxEntries(std::size_t max_entries);

  /// Puts back an entry read from disk (seqs must come in increasing order).
  std::size_t Restore(QueueEntry entry);

  std::size_t size() const { return entries_.size(); }
  std::size_t Count(const std::string& target) const;
  uint64_t next_seq() const { return next_seq_; }
  void set_next_seq(uint64_t seq) { next_seq_ = std::max(next_seq_, seq); }
  /// Oldest first.
  const std::map<uint64_t, QueueEntry>& entries() const { return entries_; }

 private:
  using AlertOf = std::pair<std::string, std::string>;  // target, fingerprint

  void Erase(std::map<uint64_t, QueueEntry>::iterator it);
  std::size_t Trim();

  std::size_t max_entries_;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, QueueEntry> entries_;
  std::map<AlertOf, uint64_t> newest_;  // seq of each alert's newest entry
  std::map<std::string, std::size_t> counts_;
};

}  // namespace portwarden::notifier
