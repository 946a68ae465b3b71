#pragma once

#include <memory>

#include "collectors/httpsys/platform.h"
#include "collectors/listeners/source.h"
#include "exporter/config.h"
#include "exporter/deadline_runner.h"
#include "exporter/snapshot.h"

namespace portwarden {

struct ListenerCollector;

/// Runs every collector once and assembles a Snapshot. A failing collector is marked
/// failed with its error; the rest of the snapshot is still filled. Never throws.
/// The collectors besides listeners are this platform's (collect.cpp lists them).
Snapshot CollectSnapshot(ListenerSource& source, const Config& config);

/// The same with an explicit HTTP.sys platform (null: no HTTP.sys collector), for tests.
Snapshot CollectSnapshot(ListenerSource& source, httpsys::HttpSysPlatform* httpsys,
                         const Config& config);

/// The daemon's collection: as CollectSnapshot, but each collector runs on a thread of its
/// own within collect.timeout. One that overruns (hangs) is published as failed
/// ("did not finish within ..."), without its data, and the cycle goes on; it is not
/// started again until its hung call returns. Not thread-safe: the sampling loop owns it.
class Collectors {
 public:
  /// `httpsys` null: no HTTP.sys collector.
  Collectors(std::unique_ptr<ListenerSource> source,
             std::unique_ptr<httpsys::HttpSysPlatform> httpsys);
  /// This platform's collectors around `source`.
  explicit Collectors(std::unique_ptr<ListenerSource> source);

  Snapshot Collect(const Config& config);

 private:
  // Shared with the runners' tasks, which may outlive this object if they hang.
  std::shared_ptr<ListenerCollector> listeners_;
  std::shared_ptr<httpsys::HttpSysPlatform> httpsys_;
  std::string backend_;  // of the last listener sample that finished
  DeadlineRunner listeners_runner_;
  DeadlineRunner httpsys_runner_;
};

}  // namespace portwarden
