#include "exporter/event_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "exporter/logging.h"

namespace portwarden {
namespace {

using spdlog::level::level_enum;

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(PORTWARDEN_FIXTURES_DIR) + "/../../" + relative);
  EXPECT_TRUE(in) << relative << " not found";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The IDs are a contract with admins' Event Log filters: the README's table is where they are
// promised, and it lists exactly the IDs reported, each with its log message.
TEST(EventLog, IdsAreTheReadmesTable) {
  const std::string readme = ReadSourceFile("README.md");
  // | 100 | Warning | a finding was raised ... | `finding_raised` |, or no message in ``.
  const std::regex row(R"(\n\| (\d+) \| (?:Information|Warning|Error) \|[^|]+\|)"
                       R"( *(?:`([^`]+)`[^|]*|[^|`]*)\|)");
  std::set<std::pair<uint32_t, std::string>> documented;
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), row);
       it != std::sregex_iterator(); ++it) {
    documented.emplace(static_cast<uint32_t>(std::stoul((*it)[1])), (*it)[2].str());
  }
  std::set<std::pair<uint32_t, std::string>> reported = {
      {kEventStartFailed, ""}, {kEventOtherWarning, ""}, {kEventOtherError, ""}};
  for (const auto& m : EventLogMessages()) reported.emplace(m.id, std::string(m.msg));
  EXPECT_EQ(documented, reported);
  // Renumbering would break every filter built on them.
  EXPECT_EQ(kEventStartFailed, 3u);
  EXPECT_EQ(kEventOtherWarning, 900u);
  EXPECT_EQ(kEventOtherError, 901u);
}

TEST(EventLog, TableMessagesTakeTheirIdAndTheTypeOfTheirLevel) {
  EXPECT_EQ(EventLogEntryFor(level_enum::warn, "finding_raised"),
            (EventLogEntry{100, EventLogType::kWarning}));
  EXPECT_EQ(EventLogEntryFor(level_enum::info, "finding_resolved"),
            (EventLogEntry{101, EventLogType::kInformation}));
  EXPECT_EQ(EventLogEntryFor(level_enum::err, "collector failed"),
            (EventLogEntry{200, EventLogType::kError}));
  EXPECT_EQ(EventLogEntryFor(level_enum::info, "config reloaded"),
            (EventLogEntry{300, EventLogType::kInformation}));
  EXPECT_EQ(EventLogEntryFor(level_enum::err, "config reload failed; keeping the previous config"),
            (EventLogEntry{301, EventLogType::kError}));
  EXPECT_EQ(EventLogEntryFor(level_enum::info, "portwarden started"),
            (EventLogEntry{1, EventLogType::kInformation}));
}

TEST(EventLog, EveryWarningAndErrorIsReportedInfoOnlyFromTheTable) {
  EXPECT_EQ(EventLogEntryFor(level_enum::warn, "something new"),
            (EventLogEntry{kEventOtherWarning, EventLogType::kWarning}));
  EXPECT_EQ(EventLogEntryFor(level_enum::err, "something new"),
            (EventLogEntry{kEventOtherError, EventLogType::kError}));
  // Critical is only logged when the daemon cannot start; its message is the error itself.
  EXPECT_EQ(EventLogEntryFor(level_enum::critical, "cannot listen on :10061: in use"),
            (EventLogEntry{kEventStartFailed, EventLogType::kError}));
  EXPECT_EQ(EventLogEntryFor(level_enum::info, "listener_appeared"), std::nullopt);
  EXPECT_EQ(EventLogEntryFor(level_enum::info, "alert queue moved"), std::nullopt);
  EXPECT_EQ(EventLogEntryFor(level_enum::debug, "finding_raised"), std::nullopt);
  EXPECT_EQ(EventLogEntryFor(level_enum::trace, "collector failed"), std::nullopt);
}

// The message table compiled into portwarden.exe defines exactly the IDs the code reports
// (event_log_windows_test checks the compiled exe; this checks the source on every OS).
TEST(EventLog, MessageTableSourceDefinesEveryId) {
  const std::string mc = ReadSourceFile("exporter/event_messages.mc");
  std::set<uint32_t> defined;
  const std::regex id_line(R"((^|\n)MessageId=(\d+)\n)");
  for (auto it = std::sregex_iterator(mc.begin(), mc.end(), id_line); it != std::sregex_iterator();
       ++it) {
    defined.insert(static_cast<uint32_t>(std::stoul((*it)[2])));
  }
  std::set<uint32_t> reported = {kEventStartFailed, kEventOtherWarning, kEventOtherError};
  for (const auto& m : EventLogMessages()) reported.insert(m.id);
  EXPECT_EQ(defined, reported);
}

// Log() hands each line that passes the level to the tap, with its message, formatted once.
TEST(EventLog, LogFeedsTheTapLinesThatPassTheLevel) {
  ASSERT_TRUE(InitLogging("info", "logfmt"));
  std::vector<std::pair<std::string, std::string>> tapped;
  SetLogTap([&](level_enum, std::string_view msg, std::string_view line) {
    tapped.emplace_back(std::string(msg), std::string(line));
  });
  auto log = ComponentLogger("test");
  Log(*log, level_enum::warn, "finding_raised", {{"kind", "wrong_owner"}, {"port", "80"}});
  Log(*log, level_enum::debug, "below the level");
  SetLogTap(nullptr);
  Log(*log, level_enum::err, "after the tap is gone");
  const std::vector<std::pair<std::string, std::string>> want = {
      {"finding_raised", "msg=finding_raised kind=wrong_owner port=80"}};
  EXPECT_EQ(tapped, want);
}

}  // namespace
}  // namespace portwarden
