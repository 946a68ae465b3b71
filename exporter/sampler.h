#pragma once

#include <spdlog/logger.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>
#include <thread>

#include "exporter/collect.h"
#include "exporter/config.h"
#include "exporter/monitor.h"
#include "exporter/snapshot.h"

namespace portwarden {

/// The sampling loop: collects every collect.interval on its own thread and publishes an
/// immutable Snapshot. Readers (scrapes, API) only take the latest pointer: they never wait
/// for the OS. When the listener collector fails (or overruns collect.timeout), the cycle
/// publishes it as failed and keeps the last good cycle's findings: an unknown state
/// raises or resolves nothing. Thread-safe.
class Sampler {
 public:
  /// Called on the sampling thread with every snapshot just before it is published; must
  /// not block (the notifier only queues).
  using CycleObserver = std::function<void(const Snapshot&)>;

  Sampler(std::unique_ptr<Collectors> collectors, Config config,
          std::shared_ptr<spdlog::logger> logger, CycleObserver observer = {});
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  /// Starts the loop; the first collection begins at once.
  void Start();
  /// Stops the loop and joins it; returns within one collection.
  void Stop();

  /// The latest complete snapshot, or null before the first collection finished.
  std::shared_ptr<const Snapshot> Latest() const;

  /// Replaces the configuration after a successful reload; the next cycle uses it.
  void SetConfig(Config config);
  /// Records a failed reload (the running configuration stays).
  void ReloadFailed();

  /// Whether the last config (re)load succeeded, and when the last good one happened.
  ReloadStatus Reload() const;

  /// Names the bind watch's event source ("ebpf", or "none" as before the call).
  void SetBindSource(std::string source);
  /// Hands over what the bind watch saw (any thread; `dropped` is its cumulative loss) for
  /// the next cycle, and starts that cycle early, kMinEarlyGap after the last one at the
  /// soonest, when a TCP listener appeared or a caller failed on an address it had not
  /// failed on before: a takeover or a new failure is published within milliseconds. The
  /// periodic cycle stays the source of truth; repeated failures wait for it.
  void Notify(std::vector<BindEvent> events, uint64_t dropped);
  static constexpr std::chrono::milliseconds kMinEarlyGap{50};

 private:
  void Loop();

  std::unique_ptr<Collectors> collectors_;   // sampling thread only
  std::shared_ptr<spdlog::logger> logger_;
  CycleObserver observer_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  Config config_;                            // guarded by mu_
  ReloadStatus reload_;                      // guarded by mu_
  std::shared_ptr<const Snapshot> latest_;   // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  bool early_ = false;                       // guarded by mu_: a cycle is wanted now
  std::vector<BindEvent> bind_events_;       // guarded by mu_: for the next cycle
  std::set<std::string> bind_seen_;          // guarded by mu_: failures that woke a cycle
  std::string bind_source_ = "none";         // guarded by mu_
  uint64_t bind_dropped_ = 0;                // guarded by mu_
  Monitor monitor_;                          // sampling thread only
  std::thread thread_;
};

}  // namespace portwarden
