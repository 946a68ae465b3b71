#pragma once

#include <spdlog/common.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "exporter/logging.h"

namespace portwarden {

/// The kind of a Windows Event Log entry (EVENTLOG_INFORMATION_TYPE, _WARNING_, _ERROR_).
enum class EventLogType { kInformation, kWarning, kError };

/// One entry of the message table (exporter/event_messages.mc): the event ID and the log
/// message (`msg=`) it stands for. IDs are stable: README.md lists them for admins' filters.
struct EventLogMessage {
  uint32_t id;
  std::string_view msg;
};

/// IDs without a message of their own in the table.
inline constexpr uint32_t kEventStartFailed = 3;     ///< any critical line: start-up failed
inline constexpr uint32_t kEventOtherWarning = 900;  ///< a warning not in the table
inline constexpr uint32_t kEventOtherError = 901;    ///< an error not in the table

/// The messages with an event ID of their own.
std::span<const EventLogMessage> EventLogMessages();

/// What a log line becomes in the Event Log: its ID and type.
struct EventLogEntry {
  uint32_t id;
  EventLogType type;
  bool operator==(const EventLogEntry&) const = default;
};

/// The Event Log entry for a log line of `level` with message `msg`: every warning and error
/// (the table's ID, else kEventOtherWarning / kEventOtherError; critical: kEventStartFailed),
/// and the info lines that are in the table (resolved findings, recoveries, reloads, start
/// and stop). nullopt for the rest (debug, other info), which stay in the log file only.
/// Pure: the same on every OS.
std::optional<EventLogEntry> EventLogEntryFor(spdlog::level::level_enum level,
                                              std::string_view msg);

/// Windows only (event_log_windows.cpp): a LogTap that reports each line EventLogEntryFor
/// maps to the Application log under the source `portwarden` (ReportEventW, the line as the
/// one insertion string). Returns an error naming RegisterEventSourceW and its code.
Expected<LogTap> OpenApplicationLog();

}  // namespace portwarden
