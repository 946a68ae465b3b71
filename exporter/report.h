#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "exporter/snapshot.h"

namespace portwarden {

/// A snapshot as JSON (the `snapshot --format json` output and /api/v1/state's listeners).
nlohmann::json SnapshotJson(const Snapshot& snap);

/// A snapshot as an aligned text table, one listener per line (like `ss -ltnup`).
std::string SnapshotTable(const Snapshot& snap);

}  // namespace portwarden
