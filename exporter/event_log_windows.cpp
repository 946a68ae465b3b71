// The Windows Event Log: log lines reported to the Application log under the source
// "portwarden", with the event IDs of the message table linked into portwarden.exe
// (event_messages.mc).
#include <windows.h>

#include <cstdio>
#include <string>

#include "exporter/event_log.h"
#include "collectors/common/wide_windows.h"

namespace portwarden {

Expected<LogTap> OpenApplicationLog() {
  HANDLE source = RegisterEventSourceW(nullptr, L"portwarden");
  if (source == nullptr) {
    char code[16];
    std::snprintf(code, sizeof code, "0x%08lx", GetLastError());
    return Error{std::string("RegisterEventSourceW(portwarden) failed (") + code + ")"};
  }
  // The handle stays open for the life of the process: any thread may log until exit.
  return LogTap([source](spdlog::level::level_enum level, std::string_view msg,
                         std::string_view line) {
    auto entry = EventLogEntryFor(level, msg);
    if (!entry) return;
    WORD type = entry->type == EventLogType::kError     ? EVENTLOG_ERROR_TYPE
                : entry->type == EventLogType::kWarning ? EVENTLOG_WARNING_TYPE
                                                        : EVENTLOG_INFORMATION_TYPE;
    const std::wstring text = Wide(line);
    const wchar_t* strings[] = {text.c_str()};
    // A failed report (a full log that may not be overwritten) is not logged: the line is
    // in the log file already, and logging it would come back here.
    ReportEventW(source, type, 0, entry->id, nullptr, 1, 0, strings, nullptr);
  });
}

}  // namespace portwarden
