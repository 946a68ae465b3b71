#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "collectors/common/expected.h"
#include "exporter/snapshot.h"

namespace portwarden {

/// A snapshot as JSON (the `snapshot --format json` output and /api/v1/state's listeners).
nlohmann::json SnapshotJson(const Snapshot& snap);

/// The process column of a listener table (snapshot, status page): the main holder's name,
/// or for a NAT forward "DNAT to 10.88.0.5:80 (httpd)".
std::string ProcessColumn(const Owner& owner);

/// A finding as JSON (state API, check --format json).
nlohmann::json FindingJson(const policy::Finding& f);

/// /api/v1/state's data: the snapshot plus active findings and expectation status.
nlohmann::json StateJson(const Snapshot& snap);

/// /api/v1/events's data: the bounded history, oldest first.
nlohmann::json EventsJson(const Snapshot& snap);

/// `decode KIND FILE`'s data: `text`, a saved command output as UTF-8 (see
/// httpsys::CaptureToUtf8), parsed with the parser of `kind` (one of kDecodeKinds), as
/// {"records": [...], "skipped": N}; for servicestate {"request_queues": [...], "url_groups":
/// [...], "skipped": N}. The records are those of the state API where it has them. Errors:
/// the parser's (it says what it expected), or a kind without a parser.
Expected<nlohmann::json> DecodeJson(std::string_view kind, std::string_view text);

/// A snapshot as an aligned text table, one listener per line (like `ss -ltnup`).
std::string SnapshotTable(const Snapshot& snap);

}  // namespace portwarden

namespace portwarden {

/// The `check` report: findings with explanation and remediation, then expectation status.
std::string FindingsText(const policy::Evaluation& evaluation);

}  // namespace portwarden
