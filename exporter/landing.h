#pragma once

#include <string>
#include <string_view>

#include "exporter/snapshot.h"

namespace portwarden {

/// Escapes text for HTML element content and attribute values.
std::string HtmlEscape(std::string_view text);

/// The status page at "/": links, then the current listeners (null: not collected yet).
std::string LandingPage(const Snapshot* snap, const std::string& telemetry_path);

}  // namespace portwarden
