#pragma once

#include <string>
#include <string_view>

#include "exporter/snapshot.h"

namespace portwarden {

/// Escapes text for HTML element content and attribute values.
std::string HtmlEscape(std::string_view text);

/// "2026-01-01 12:00:00 UTC". Calendar arithmetic, not gmtime: pages render on several web
/// server threads at once, and gmtime shares one buffer.
std::string FormatUtc(double unix_seconds);

/// How the listener table of "/" is shown: `/?q=nginx&sort=port&order=desc`.
struct LandingQuery {
  /// Words separated by spaces, each of which a listener must match, case-insensitively:
  /// "text" anywhere in its row, "column:text" in that column (a column key such as port,
  /// process, service; the number columns port, pid and sockets must equal the text).
  std::string filter;
  std::string sort;  ///< a column key; empty or unknown: the listener set's order (by port)
  bool descending = false;
};

/// Reads q, sort and order (=desc) from a URL query string: percent-decoded, '+' is a space.
/// Other and malformed parameters are ignored.
LandingQuery ParseLandingQuery(std::string_view query_string);

/// The status page at "/", an operator's console: findings with their fix, the
/// expectations and whether each holds, the latest events, the listener table filtered and
/// sorted as `query` says, HTTP.sys (where collected). Complete as server-rendered HTML; an
/// inline script re-fetches the same URL every few seconds and swaps the live sections, and
/// applies the filter as it is typed. No external assets. snap null: not collected yet.
std::string LandingPage(const Snapshot* snap, const std::string& telemetry_path,
                        const LandingQuery& query = {});

}  // namespace portwarden
