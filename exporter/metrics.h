#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "exporter/snapshot.h"

namespace portwarden {

/// Every metric family exposed on /metrics for one snapshot (null: before the first
/// collection, only the build and readiness families). Pure function of its input.
std::vector<prometheus::MetricFamily> SnapshotMetrics(const Snapshot* snapshot);

/// The Prometheus text exposition format (0.0.4) of the families.
std::string RenderText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace portwarden
