#pragma once

#include <string>

#include "exporter/metrics.h"

namespace portwarden::testing {

/// A snapshot's /metrics text as the web server sends it, less the live families of the
/// notifier: the listener families, then the snapshot's own (reload status: fresh).
inline std::string MetricsText(const Snapshot& snap) {
  return ListenerMetricsText(*snap.listeners) + RenderText(SnapshotMetrics(&snap, {}));
}

}  // namespace portwarden::testing
