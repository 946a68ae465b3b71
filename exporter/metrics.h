#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "exporter/snapshot.h"

namespace portwarden {

/// The families that are a pure function of the listeners (portwarden_listener_info,
/// _sockets, _processes, portwarden_port_owners): the bulk of /metrics.
std::vector<prometheus::MetricFamily> ListenerMetrics(const ListenerSet& listeners);

/// Every other metric family exposed on /metrics for one snapshot (null: before the first
/// collection, only build info and config state). Pure function of its input.
std::vector<prometheus::MetricFamily> SnapshotMetrics(const Snapshot* snapshot,
                                                      const ReloadStatus& reload);

/// The Prometheus text exposition format (0.0.4) of the families.
std::string RenderText(const std::vector<prometheus::MetricFamily>& families);

/// The text of ListenerMetrics(*snapshot.listeners), rendered once per
/// snapshot.listener_text, which snapshots with unchanged listeners share (see Sampler).
const std::string& ListenerMetricsText(const Snapshot& snapshot);

/// The whole /metrics text of a snapshot: ListenerMetricsText, then SnapshotMetrics (the
/// web server sends the same two parts without joining them).
std::string RenderMetrics(const Snapshot* snapshot, const ReloadStatus& reload);

}  // namespace portwarden
