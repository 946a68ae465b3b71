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

// The IDs are a contract with admins' Event Log filters and README.md: this list changes
// only by appending.
TEST(EventLog, IdsAreStable) {
  const std::vector<std::pair<uint32_t, std::string>> want = {
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
  std::vector<std::pair<uint32_t, std::string>> got;
  for (const auto& m : EventLogMessages()) got.emplace_back(m.id, std::string(m.msg));
  EXPECT_EQ(got, want);
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
  std::ifstream in(std::string(PORTWARDEN_FIXTURES_DIR) + "/../../exporter/event_messages.mc");
  ASSERT_TRUE(in) << "exporter/event_messages.mc not found";
  std::stringstream text;
  text << in.rdbuf();
  const std::string mc = text.str();
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
