#pragma once

#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

#include "exporter/rendered_body.h"
#include "exporter/snapshot.h"

namespace portwarden {

/// The Prometheus text (format 0.0.4) of the families that are a pure function of the
/// listeners (portwarden_listener_info, _sockets, _processes, portwarden_port_owners): the
/// bulk of /metrics, written directly rather than through prometheus-cpp.
std::string ListenerMetricsText(const ListenerSet& listeners);

/// ListenerMetricsText(*listeners) as a body rendered on first use (see
/// Snapshot::listener_body).
std::shared_ptr<const RenderedBody> ListenerBody(std::shared_ptr<const ListenerSet> listeners);

/// Every other metric family exposed on /metrics for one snapshot (null: before the first
/// collection, only build info and config state). Pure function of its input.
std::vector<prometheus::MetricFamily> SnapshotMetrics(const Snapshot* snapshot,
                                                      const ReloadStatus& reload);

/// An empty family to Add() samples to.
prometheus::MetricFamily NewFamily(std::string name, std::string help,
                                   prometheus::MetricType type = prometheus::MetricType::Gauge);

/// Adds one sample to `family` (a counter's or a gauge's, by the family's type); label
/// values that are not valid UTF-8 (host-derived bytes) get U+FFFD for each bad byte.
void Add(prometheus::MetricFamily& family, std::vector<prometheus::ClientMetric::Label> labels,
         double value);

/// The Prometheus text exposition format (0.0.4) of the families.
std::string RenderText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace portwarden
