#pragma once

#include <spdlog/spdlog.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "collectors/common/expected.h"

namespace portwarden {

/// Configures the sink for --log.level and --log.format (logfmt|json): stderr, or with
/// `file` a size-rotated log file (10 MiB x 3; the Windows service logs there). Returns an
/// error naming the bad value. Call before any logger is made.
Expected<bool> InitLogging(std::string_view level, std::string_view format,
                           const std::string& file = "");

/// A named logger for one component (sampler, web, ...), sharing the configured sink.
std::shared_ptr<spdlog::logger> ComponentLogger(const std::string& name);

using LogField = std::pair<std::string_view, std::string_view>;

/// Receives every line Log() writes (once it passed the level), besides the sink: the level,
/// the message and the line as formatted (`msg=... key=...`, or the JSON members). Called on
/// whichever thread logs, so it must be thread-safe. The Windows service's Event Log.
using LogTap = std::function<void(spdlog::level::level_enum level, std::string_view msg,
                                  std::string_view line)>;

/// Sets the one tap (empty: none). Call before any thread logs.
void SetLogTap(LogTap tap);

/// Logs one structured event: a message plus key/value fields, escaped for the configured
/// format. Every log line of portwarden goes through here.
void Log(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<LogField> fields = {});

}  // namespace portwarden
