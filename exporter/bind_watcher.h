#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <memory>
#include <thread>

#include "collectors/bindwatch/source.h"
#include "exporter/sampler.h"

namespace portwarden {

/// Runs the bind watch: opens the platform's BindEventSource and hands what it reports to
/// the Sampler from a thread of its own. Without a source (not permitted, not built in,
/// Windows) it logs why, once, and the source stays "none". Start and Stop from one thread.
class BindWatcher {
 public:
  BindWatcher(Sampler& sampler, std::shared_ptr<spdlog::logger> logger);
  ~BindWatcher();
  BindWatcher(const BindWatcher&) = delete;
  BindWatcher& operator=(const BindWatcher&) = delete;

  /// Opens the source (its self-test takes up to 1 s) and starts polling it.
  void Start();
  /// Stops polling and closes the source (the kernel programs go with it).
  void Stop();

 private:
  Sampler& sampler_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<BindEventSource> source_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace portwarden
