#include "exporter/collect.h"

#include <chrono>

namespace portwarden {

Snapshot CollectSnapshot(ListenerSource& source, const Config& config) {
  Snapshot snap;
  CollectorStatus status;
  status.name = "listeners";
  auto start = std::chrono::steady_clock::now();
  auto sample = source.Sample();
  status.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (sample) {
    snap.listeners = BuildListeners(*sample, config.listener_filter);
    status.success = true;
  } else {
    status.error = sample.error().message;
  }
  snap.listener_backend = source.Backend();
  snap.collectors.push_back(std::move(status));
  snap.timestamp = std::chrono::duration<double>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  return snap;
}

}  // namespace portwarden
