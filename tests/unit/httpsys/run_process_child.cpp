// Helper program of run_process_windows_test.cpp: a console child whose behaviour the test
// picks with its first argument.
//   print       writes two lines (the second an OEM code page byte) and exits with code 3
//   flood       writes 1 MiB and a final line
//   hang        never exits
//   spawn-hang  starts a "hang" grandchild holding the same stdout, then exits
#include <windows.h>

#include <string>
#include <vector>

namespace {

void Write(const std::string& text) {
  DWORD written = 0;
  WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), text.data(), static_cast<DWORD>(text.size()), &written,
            nullptr);
}

int Hang() {
  // An event nobody sets: the process waits until it is killed.
  HANDLE never = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  WaitForSingleObject(never, INFINITE);
  return 0;
}

int SpawnHang() {
  wchar_t self[MAX_PATH];
  GetModuleFileNameW(nullptr, self, MAX_PATH);
  std::wstring command_line = L"\"" + std::wstring(self) + L"\" hang";
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  PROCESS_INFORMATION info{};
  if (!CreateProcessW(self, command_line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr,
                      &startup, &info)) {
    return 1;
  }
  CloseHandle(info.hThread);
  CloseHandle(info.hProcess);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "print") {
    Write("portwarden child\r\n\x82\r\n");
    return 3;
  }
  if (mode == "flood") {
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 16; ++i) Write(chunk);
    Write("\r\nend\r\n");
    return 0;
  }
  if (mode == "hang") return Hang();
  if (mode == "spawn-hang") return SpawnHang();
  return 2;
}
