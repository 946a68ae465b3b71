#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "exporter/notifier/alert.h"
#include "exporter/notifier/alert_queue.h"
#include "exporter/policy/finding_tracker.h"

namespace portwarden::notifier {

/// Seconds to wait before retry number `failures` (1 after the first failed send):
/// `initial` doubled per further failure, capped at `max`, then shortened by up to 20% by
/// `jitter` in [0, 1) so a fleet that lost the same Alertmanager does not retry in step.
double RetryDelay(int failures, double initial, double max, double jitter);

/// How a send ended.
enum class Outcome {
  kDelivered,  ///< 2xx: the entries leave the queue
  kRetry,      ///< no connection, timeout, 5xx, 408 or 429: kept, retried after a backoff
  kRejected,   ///< any other status: the receiver will never take them; dropped and counted
};

/// Outcome of an HTTP status code (0: no response at all).
Outcome Classify(int http_status);

/// Settings of the core, from the `alerting:` config.
struct CoreSettings {
  std::vector<std::string> targets;  ///< receiver URLs (Alertmanagers and webhooks)
  AlertContext context;
  double resend_interval = 60;  ///< seconds
  double backoff_initial = 1;   ///< seconds
  double backoff_max = 60;      ///< seconds
  std::size_t max_entries = 10'000;
};

/// Per-receiver counters (portwarden_notifications_{sent,failed}_total).
struct TargetStats {
  uint64_t sent = 0;    ///< alerts the receiver accepted
  uint64_t failed = 0;  ///< alerts in sends that failed (each retry counts again)
};

/// The notifier's logic, pure: findings in, queued alert states and retry times out. No OS,
/// no clock (callers pass the time), no logging. Not thread-safe (Notifier locks around it).
///
///  - A finding that becomes active is queued as a firing alert for every receiver; one that
///    leaves the active set (the Monitor has waited out its hold-down) is queued resolved.
///  - Every `resend_interval` all firing alerts are queued again, so they never reach the
///    endsAt a receiver was given (send time + 4 x resend_interval).
///  - The firing set is part of the persisted state: after a restart, an alert that fired
///    before and whose finding does not come back within kRestoredHoldDownCycles cycles is
///    resolved, so nothing stays open in Alertmanager until it expires.
///  - Per receiver: failures back off (RetryDelay); a receiver that is down does not hold
///    up the others.
class NotifierCore {
 public:
  /// Cycles a restored firing alert may be missing before it is resolved; the Monitor's
  /// hold-down, so a restart resolves no sooner than a running daemon would.
  static constexpr int kRestoredHoldDownCycles = 3;
  /// Alerts per request.
  static constexpr std::size_t kMaxBatch = 64;
  /// Format version of Encode()'s output.
  static constexpr int kStateVersion = 1;

  explicit NotifierCore(CoreSettings settings);

  /// Applies new settings (a reload). A receiver not configured before is sent the firing
  /// alerts at once. Entries of receivers no longer configured and entries over a smaller
  /// bound are dropped; returns how many.
  std::size_t Configure(CoreSettings settings);

  /// Replaces queue and firing set with a persisted state (Encode's output). Entries of
  /// unknown receivers are dropped (returned). A state that does not decode is an error and
  /// leaves the core as it was.
  Expected<std::size_t> Restore(std::string_view text);

  /// The state to persist: queue, firing set, next sequence number.
  std::string Encode() const;

  /// Feeds one cycle's active findings (Snapshot::policy.active) at `now`. Returns true if
  /// the persisted state changed.
  bool Observe(const std::map<std::string, policy::TrackedFinding>& active, double now);

  /// What to send to `target` at `now`: the next batch, or nothing while it backs off.
  std::vector<QueueEntry> Due(const std::string& target, double now) const;

  /// When `target` may be tried again (0: at once).
  double NextAttempt(const std::string& target) const;

  /// Records how sending `batch` to `target` ended. `jitter` in [0, 1) feeds RetryDelay.
  void Complete(const std::string& target, const std::vector<QueueEntry>& batch, Outcome outcome,
                double now, double jitter);

  std::size_t QueueLength() const { return queue_.size(); }
  std::size_t QueueLength(const std::string& target) const { return queue_.Count(target); }
  /// Consecutive failed sends to `target`.
  int Failures(const std::string& target) const;
  /// Entries dropped so far: over the bound, rejected, or of receivers removed.
  uint64_t Dropped() const { return dropped_; }
  /// Counters of every receiver configured so far, by URL.
  const std::map<std::string, TargetStats>& Stats() const { return stats_; }
  const CoreSettings& settings() const { return settings_; }
  /// Firing alerts by finding key.
  std::map<std::string, Alert> Firing() const;

 private:
  struct FiringAlert {
    Alert alert;
    bool restored = false;  ///< read from disk, not yet seen active by this process
    int absent = 0;         ///< cycles a restored alert has been missing
  };
  struct Retry {
    int failures = 0;
    double next_attempt = 0;
  };

  void PushAll(const Alert& alert, double now);

  CoreSettings settings_;
  AlertQueue queue_;
  std::map<std::string, FiringAlert> firing_;  // by finding key
  std::map<std::string, Retry> retry_;         // by target
  std::map<std::string, TargetStats> stats_;
  uint64_t dropped_ = 0;
  double next_resend_ = 0;
};

}  // namespace portwarden::notifier
