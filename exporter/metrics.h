#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "exporter/snapshot.h"

namespace portwarden {

/// Every metric family exposed on /metrics for one snapshot (null: before the first
/// collection, only build info and config state). Pure function of its input.
std::vector<prometheus::MetricFamily> SnapshotMetrics(const Snapshot* snapshot,
                                                      const ReloadStatus& reload);

/// The Prometheus text exposition format (0.0.4) of the families.
std::string RenderText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace portwarden
