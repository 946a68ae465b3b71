// The message table linked into the shipped portwarden.exe (exporter/event_messages.mc) has a
// message for every event ID the service reports, and none for others; the event source
// opens. Runs on Windows and, cross-built, under Wine (whose ReportEventW records nothing:
// tests/windows/msi_wine_test.sh sees the calls in Wine's eventlog debug channel instead).
#include <windows.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/event_log.h"

namespace portwarden {
namespace {

// portwarden.exe of the same build: build/exporter/ beside build/tests/windows/.
std::wstring PortwardenExe() {
  wchar_t self[MAX_PATH * 2];
  DWORD n = GetModuleFileNameW(nullptr, self, static_cast<DWORD>(std::size(self)));
  std::wstring dir(self, n);
  dir.resize(dir.find_last_of(L"\\/"));
  return dir + L"\\..\\..\\exporter\\portwarden.exe";
}

class MessageTable : public ::testing::Test {
 protected:
  void SetUp() override {
    module_ = LoadLibraryExW(PortwardenExe().c_str(), nullptr, LOAD_LIBRARY_AS_DATAFILE);
    ASSERT_NE(module_, nullptr) << "LoadLibraryExW(portwarden.exe) failed: " << GetLastError();
  }
  void TearDown() override {
    if (module_ != nullptr) FreeLibrary(module_);
  }

  // The message for `id` with "INSERTED" as %1, as the Event Viewer formats it; empty if the
  // table has none.
  std::wstring Format(uint32_t id) const {
    // With FORMAT_MESSAGE_ARGUMENT_ARRAY the arguments are an array of DWORD_PTR.
    DWORD_PTR inserts[] = {reinterpret_cast<DWORD_PTR>(L"INSERTED")};
    wchar_t buf[1024];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                             module_, id, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), buf,
                             static_cast<DWORD>(std::size(buf)),
                             reinterpret_cast<va_list*>(inserts));
    return std::wstring(buf, n);
  }

  HMODULE module_ = nullptr;
};

TEST_F(MessageTable, HasAMessageForEveryReportedId) {
  std::vector<uint32_t> ids = {kEventStartFailed, kEventOtherWarning, kEventOtherError};
  for (const auto& m : EventLogMessages()) ids.push_back(m.id);
  for (uint32_t id : ids) {
    const std::wstring text = Format(id);
    EXPECT_NE(text.find(L"INSERTED"), std::wstring::npos)
        << "event " << id << ": no message carrying %1 (FormatMessageW error "
        << GetLastError() << ")";
  }
}

TEST_F(MessageTable, HasNoMessageForOtherIds) {
  for (uint32_t id : {0u, 4u, 102u, 999u}) {
    EXPECT_EQ(Format(id), L"") << "event " << id;
    EXPECT_EQ(GetLastError(), static_cast<DWORD>(ERROR_MR_MID_NOT_FOUND)) << "event " << id;
  }
}

TEST_F(MessageTable, SaysWhatHappened) {
  EXPECT_EQ(Format(100), L"A port is not owned as expected (finding raised).\r\nINSERTED\r\n");
  EXPECT_EQ(Format(kEventOtherError), L"INSERTED\r\n");
}

TEST(EventLog, SourceOpens) {
  auto tap = OpenApplicationLog();
  ASSERT_TRUE(tap) << tap.error().message;
  // Lines the table maps and lines it does not both pass without failing.
  (*tap)(spdlog::level::warn, "finding_raised", "msg=finding_raised kind=wrong_owner");
  (*tap)(spdlog::level::debug, "listener_appeared", "msg=listener_appeared");
}

}  // namespace
}  // namespace portwarden
