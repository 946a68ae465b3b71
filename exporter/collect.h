#pragma once

#include "collectors/listeners/source.h"
#include "exporter/config.h"
#include "exporter/snapshot.h"

namespace portwarden {

/// Runs every collector once and assembles a Snapshot. A failing collector is marked
/// failed with its error; the rest of the snapshot is still filled. Never throws.
Snapshot CollectSnapshot(ListenerSource& source, const Config& config);

}  // namespace portwarden
