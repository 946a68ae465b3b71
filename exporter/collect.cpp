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

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The listener collector's part of a snapshot.
struct ListenerPart {
  CollectorStatus status;
  std::shared_ptr<const ListenerSet> listeners = std::make_shared<const ListenerSet>();
  std::string backend;
};

ListenerPart CollectListeners(ListenerSource& source, ListenerBuilder& builder,
                              const ListenerFilter& filter) {
  ListenerPart part;
  part.status.name = "listeners";
  auto start = std::chrono::steady_clock::now();
  auto sample = source.Sample();
  part.status.duration_seconds = Seconds(std::chrono::steady_clock::now() - start);
  if (sample) {
    part.listeners = builder.Build(*sample, filter);
    part.status.success = true;
  } else {
    part.status.error = sample.error().message;
  }
  part.backend = source.Backend();
  return part;
}

std::string Overran(std::chrono::milliseconds timeout) {
  return "did not finish within collect.timeout (" + std::to_string(timeout.count()) +
         " ms); not restarted until it returns";
}

// The snapshot from the collectors' parts; `httpsys` nullopt: no HTTP.sys collector.
Snapshot Assemble(ListenerPart listeners, std::optional<httpsys::HttpSysCollection> httpsys,
                  const Config& config) {
  Snapshot snap;
  snap.listeners = std::move(listeners.listeners);
  snap.listener_backend = std::move(listeners.backend);
  snap.collectors.push_back(std::move(listeners.status));
  if (httpsys) ApplyHttpSys(snap, std::move(*httpsys), config.expectations);
  snap.timestamp =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return snap;
}

}  // namespace

// The daemon's listener collector. Used by one task at a time (the runner does not start
// another while one runs).
struct ListenerCollector {
  std::unique_ptr<ListenerSource> source;
  ListenerBuilder builder;
};

Snapshot CollectSnapshot(ListenerSource& source, const Config& config) {
  std::unique_ptr<httpsys::HttpSysPlatform> httpsys = PlatformHttpSys();
  return CollectSnapshot(source, httpsys.get(), config);
}

Snapshot CollectSnapshot(ListenerSource& source, httpsys::HttpSysPlatform* httpsys,
                         const Config& config) {
  std::optional<httpsys::HttpSysCollection> collection;
  if (httpsys != nullptr) collection = httpsys::CollectHttpSys(*httpsys, config.httpsys);
  ListenerBuilder builder;
  return Assemble(CollectListeners(source, builder, config.listener_filter),
                  std::move(collection), config);
}

Collectors::Collectors(std::unique_ptr<ListenerSource> source,
                       std::unique_ptr<httpsys::HttpSysPlatform> httpsys)
    : listeners_(std::make_shared<ListenerCollector>(ListenerCollector{std::move(source), {}})),
      httpsys_(std::move(httpsys)) {}

Collectors::Collectors(std::unique_ptr<ListenerSource> source)
    : Collectors(std::move(source), PlatformHttpSys()) {}

Snapshot Collectors::Collect(const Config& config) {
  // One after the other, each within collect.timeout: a cycle takes at most twice that.
  auto start = std::chrono::steady_clock::now();
  auto listeners = RunWithDeadline<ListenerPart>(
      listeners_runner_,
      [collector = listeners_, filter = config.listener_filter] {
        return CollectListeners(*collector->source, collector->builder, filter);
      },
      config.collect_timeout);
  if (listeners) {
    backend_ = listeners->backend;
  } else {
    listeners.emplace();
    listeners->status = {"listeners", false, Seconds(std::chrono::steady_clock::now() - start),
                         Overran(config.collect_timeout)};
    listeners->backend = backend_;  // the hung task may be using the source: not asked
  }
  std::optional<httpsys::HttpSysCollection> httpsys;
  if (httpsys_) {
    start = std::chrono::steady_clock::now();
    httpsys = RunWithDeadline<httpsys::HttpSysCollection>(
        httpsys_runner_,
        [platform = httpsys_, options = config.httpsys] {
          return httpsys::CollectHttpSys(*platform, options);
        },
        config.collect_timeout);
    if (!httpsys) {
      httpsys.emplace();
      httpsys->statuses.push_back({"httpsys", false,
                                   Seconds(std::chrono::steady_clock::now() - start),
                                   Overran(config.collect_timeout)});
    }
  }
  return Assemble(std::move(*listeners), std::move(httpsys), config);
}

}  // namespace portwarden
