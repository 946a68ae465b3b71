#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "exporter/snapshot.h"

namespace portwarden {

/// A snapshot as JSON (the `snapshot --format json` output and /api/v1/state's listeners).
nlohmann::json SnapshotJson(const Snapshot& snap);

/// A finding as JSON (state API, check --format json).
nlohmann::json FindingJson(const policy::Finding& f);

/// /api/v1/state's data: the snapshot plus active findings and expectation status.
nlohmann::json StateJson(const Snapshot& snap);

/// /api/v1/events's data: the bounded history, oldest first.
nlohmann::json EventsJson(const Snapshot& snap);

/// A snapshot as an aligned text table, one listener per line (like `ss -ltnup`).
std::string SnapshotTable(const Snapshot& snap);

}  // namespace portwarden

namespace portwarden {

/// The `check` report: findings with explanation and remediation, then expectation status.
std::string FindingsText(const policy::Evaluation& evaluation);

}  // namespace portwarden
