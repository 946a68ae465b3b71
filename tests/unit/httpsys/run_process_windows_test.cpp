// Live: RunProcess with a real child (run_process_child.exe beside this test), on Windows and
// under Wine: output and exit code, a large output, the timeout kill (also of a grandchild
// holding the pipe), a program that does not exist, and netsh through the platform.
#include <windows.h>
#include <tlhelp32.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "collectors/httpsys/platform.h"
#include "collectors/httpsys/run_process.h"

namespace portwarden::httpsys {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string Utf8(const std::wstring& wide) {
  int n = WideCharToMultiByte(CP_UTF8, 0, wide.c_str(), -1, nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, wide.c_str(), -1, out.data(), n, nullptr, nullptr);
  out.pop_back();
  return out;
}

/// run_process_child.exe, built into the same directory as this test.
std::string ChildPath() {
  wchar_t self[MAX_PATH];
  DWORD n = GetModuleFileNameW(nullptr, self, MAX_PATH);
  std::wstring path(self, n);
  return Utf8(path.substr(0, path.find_last_of(L'\\') + 1) + L"run_process_child.exe");
}

/// Running processes whose image is run_process_child.exe.
int RunningChildren() {
  int count = 0;
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap == INVALID_HANDLE_VALUE) return -1;
  PROCESSENTRY32W entry{};
  entry.dwSize = sizeof entry;
  for (BOOL ok = Process32FirstW(snap, &entry); ok; ok = Process32NextW(snap, &entry)) {
    if (_wcsicmp(entry.szExeFile, L"run_process_child.exe") == 0) ++count;
  }
  CloseHandle(snap);
  return count;
}

TEST(RunProcess, OutputAndExitCode) {
  auto result = RunProcess(ChildPath(), "print", 60s);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->exit_code, 3u);
  EXPECT_EQ(result->output, "portwarden child\r\n\x82\r\n");
  // 0x82 is é in the OEM code pages of Western Europe and the US.
  if (GetOEMCP() == 437 || GetOEMCP() == 850) {
    EXPECT_EQ(OemToUtf8(result->output), "portwarden child\r\n\xc3\xa9\r\n");
  }
}

TEST(RunProcess, LargeOutputReadInFull) {
  auto result = RunProcess(ChildPath(), "flood", 60s);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->output.size(), 16u * 64 * 1024 + 7);
  EXPECT_TRUE(result->output.ends_with("\r\nend\r\n"));
}

TEST(RunProcess, TimeoutKillsTheChild) {
  const auto start = std::chrono::steady_clock::now();
  auto result = RunProcess(ChildPath(), "hang", 500ms);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("killed after 500 ms (timeout)"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

TEST(RunProcess, TimeoutKillsWhatTheChildStarted) {
  // The child exits at once, but its grandchild keeps the pipe open: the output never ends,
  // so the deadline applies, and the job takes the grandchild down with it.
  auto result = RunProcess(ChildPath(), "spawn-hang", 1000ms);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("(timeout)"));
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  // Termination is asynchronous: poll against the deadline.
  while (RunningChildren() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(RunningChildren(), 0) << "the grandchild outlived the kill";
}

TEST(RunProcess, MissingProgram) {
  auto result = RunProcess("C:\\portwarden-missing\\none.exe", "", 5s);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message,
              HasSubstr("CreateProcessW(C:\\portwarden-missing\\none.exe) failed: 0x0000000"));
}

/// Wine's ntdll exports wine_get_version; Windows' does not.
bool UnderWine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

TEST(RunProcess, NetshThroughThePlatform) {
  // %SystemRoot%\System32\netsh.exe exists on Windows and in Wine. Windows' prints the
  // listing; Wine's has no http context and prints nothing, successfully.
  auto output = MakeHttpSysPlatform()->RunNetsh("http show servicestate view=requestq", 60s);
  ASSERT_TRUE(output.ok()) << output.error().message;
  if (UnderWine()) {
    EXPECT_EQ(output->exit_code, 0u);
    EXPECT_EQ(output->text, "");
  } else {
    EXPECT_FALSE(output->text.empty());
  }
}

}  // namespace
}  // namespace portwarden::httpsys
