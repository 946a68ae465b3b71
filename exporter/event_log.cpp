#include "exporter/event_log.h"

namespace portwarden {
namespace {

// Keep in step with event_messages.mc (event_log_windows_test checks the shipped exe) and
// the table in README.md. Never reuse or renumber an ID: admins filter on them.
constexpr EventLogMessage kMessages[] = {
    {1, "portwarden started"},
    {2, "shutting down"},
    {100, "finding_raised"},
    {101, "finding_resolved"},
    {200, "collector failed"},
    {201, "collector recovered"},
    {300, "config reloaded"},
    {301, "config reload failed; keeping the previous config"},
    {400, "cannot send alerts; they stay queued and are retried"},
    {401, "alerts delivered again"},
    {402, "receiver rejected alerts; dropped"},
    {403, "cannot write the alert queue; alerts are kept in memory only"},
    {404, "alert queue written again"},
};

}  // namespace

std::span<const EventLogMessage> EventLogMessages() { return kMessages; }

std::optional<EventLogEntry> EventLogEntryFor(spdlog::level::level_enum level,
                                              std::string_view msg) {
  EventLogType type;
  uint32_t fallback = 0;
  switch (level) {
    case spdlog::level::warn:
      type = EventLogType::kWarning;
      fallback = kEventOtherWarning;
      break;
    case spdlog::level::err:
      type = EventLogType::kError;
      fallback = kEventOtherError;
      break;
    case spdlog::level::critical:
      type = EventLogType::kError;
      fallback = kEventStartFailed;
      break;
    case spdlog::level::info:
      type = EventLogType::kInformation;
      break;
    default:
      return std::nullopt;
  }
  for (const auto& m : kMessages) {
    if (m.msg == msg) return EventLogEntry{m.id, type};
  }
  if (fallback == 0) return std::nullopt;
  return EventLogEntry{fallback, type};
}

}  // namespace portwarden
