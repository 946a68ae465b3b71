#include "exporter/collect.h"

#include <chrono>
#include <memory>

#include "exporter/httpsys_metrics.h"

namespace portwarden {
namespace {

// The collectors each platform runs besides listeners: an explicit list, not
// self-registration. HTTP.sys exists only on Windows.
std::unique_ptr<httpsys::HttpSysPlatform> PlatformHttpSys() {
#ifdef _WIN32
  return httpsys::MakeHttpSysPlatform();
#else
  return nullptr;
#endif
}

}  // namespace

Snapshot CollectSnapshot(ListenerSource& source, const Config& config) {
  std::unique_ptr<httpsys::HttpSysPlatform> httpsys = PlatformHttpSys();
  return CollectSnapshot(source, httpsys.get(), config);
}

Snapshot CollectSnapshot(ListenerSource& source, httpsys::HttpSysPlatform* httpsys,
                         const Config& config) {
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
  if (httpsys != nullptr) {
    ApplyHttpSys(snap, httpsys::CollectHttpSys(*httpsys, {}), config.expectations);
  }
  snap.timestamp = std::chrono::duration<double>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  return snap;
}

}  // namespace portwarden
