#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/metrics.h"

namespace portwarden::testing {

/// A snapshot's /metrics text as the web server sends it, less the live families of the
/// notifier: the listener families, then the snapshot's own (reload status: fresh).
inline std::string MetricsText(const Snapshot& snap) {
  return ListenerMetricsText(*snap.listeners) + RenderText(SnapshotMetrics(&snap, {}));
}

/// Each of lines is a whole line of the exposition text.
inline void ExpectLines(const std::string& text, const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n---\n" << text;
  }
}

}  // namespace portwarden::testing
