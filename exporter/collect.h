#pragma once

#include "collectors/httpsys/platform.h"
#include "collectors/listeners/source.h"
#include "exporter/config.h"
#include "exporter/snapshot.h"

namespace portwarden {

/// Runs every collector once and assembles a Snapshot. A failing collector is marked
/// failed with its error; the rest of the snapshot is still filled. Never throws.
/// The collectors besides listeners are this platform's (collect.cpp lists them).
Snapshot CollectSnapshot(ListenerSource& source, const Config& config);

/// The same with an explicit HTTP.sys platform (null: no HTTP.sys collector), for tests.
Snapshot CollectSnapshot(ListenerSource& source, httpsys::HttpSysPlatform* httpsys,
                         const Config& config);

}  // namespace portwarden
