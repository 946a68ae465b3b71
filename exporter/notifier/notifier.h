#pragma once

#include <prometheus/collectable.h>
#include <spdlog/logger.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "collectors/common/expected.h"
#include "exporter/notifier/alerting_config.h"
#include "exporter/notifier/http_url.h"
#include "exporter/notifier/notifier_core.h"

namespace portwarden::notifier {

/// The daemon's own alerting: pushes active findings to Alertmanagers (API v2) and generic
/// webhooks, through the persistent queue. NotifierCore decides what to send; this class
/// adds the threads (one per receiver, so a dead one does not hold up the others), the
/// queue file and the metrics. Thread-safe.
class Notifier : public prometheus::Collectable {
 public:
  explicit Notifier(std::shared_ptr<spdlog::logger> logger);
  ~Notifier() override;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  /// Applies the `alerting:` section (nullopt: alerting off; what is queued is dropped and
  /// counted). Turning alerting on reads the queue file a previous run left, and its alerts
  /// are sent; a new queue path while on moves the state there. `own_url` (http://host:port of the
  /// daemon) is the default external URL. On an error (queue file unreadable, not a queue, not
  /// writable) nothing changes. Unless something changed, returns at once; otherwise waits for
  /// sends in flight to finish.
  Expected<bool> Configure(const std::optional<AlertingConfig>& config, const std::string& own_url);

  /// Feeds the active findings of one cycle (sampling thread). Updates the queue, writes
  /// the queue file if it changed, and wakes the senders; never waits on the network.
  void Observe(const std::map<std::string, policy::TrackedFinding>& active, double now);

  /// Stops the senders (sends in flight finish first; the queue stays on disk).
  void Stop();

  /// portwarden_notifications_{sent,failed}_total{alertmanager}, _dropped_total and
  /// portwarden_notification_queue_length.
  std::vector<prometheus::MetricFamily> Collect() const override;

  /// Entries waiting, over all receivers.
  std::size_t QueueLength() const;

 private:
  struct Receiver {
    std::string url;  ///< as configured: the queue's target and the metrics' label
    bool webhook = false;
    HttpUrl endpoint;
  };

  void StartSenders();  // mu_ held
  void StopSenders();   // mu_ not held
  void Send(std::size_t index);
  void Persist();  // mu_ held

  std::shared_ptr<spdlog::logger> logger_;
  std::mutex configure_mu_;  // one Configure at a time
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool enabled_ = false;                       // guarded by mu_
  std::optional<AlertingConfig> config_;       // guarded by mu_; as last applied
  std::string own_url_;                        // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  std::string path_;                           // guarded by mu_
  std::string external_url_;                   // guarded by mu_
  std::chrono::milliseconds timeout_{10'000};  // guarded by mu_
  NotifierCore core_;                          // guarded by mu_
  std::vector<Receiver> receivers_;            // guarded by mu_; fixed while senders run
  bool persist_failing_ = false;               // guarded by mu_
  std::mt19937_64 rng_;                        // guarded by mu_
  std::vector<std::thread> senders_;
};

}  // namespace portwarden::notifier
