// NOMINMAX: windows.h would otherwise define min and max as macros and break std::min.
#define NOMINMAX
#include <windows.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "exporter/notifier/os.h"
#include "collectors/common/wide_windows.h"

namespace portwarden::notifier {
namespace {

Error ApiError(const char* api, const std::string& path) {
  char code[16];
  std::snprintf(code, sizeof code, "0x%08lx", GetLastError());
  return Error{std::string(api) + " failed on " + path + " (" + code + ")"};
}

}  // namespace

Expected<bool> WriteFileAtomically(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  HANDLE h = CreateFileW(Wide(tmp).c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return ApiError("CreateFileW", tmp);
  constexpr size_t kChunk = 1 << 20;
  while (!data.empty()) {
    DWORD written = 0;
    const DWORD want = static_cast<DWORD>(std::min(data.size(), kChunk));
    if (!WriteFile(h, data.data(), want, &written, nullptr) || written == 0) {
      Error e = ApiError("WriteFile", tmp);
      CloseHandle(h);
      DeleteFileW(Wide(tmp).c_str());
      return e;
    }
    data.remove_prefix(written);
  }
  if (!FlushFileBuffers(h)) {
    Error e = ApiError("FlushFileBuffers", tmp);
    CloseHandle(h);
    return e;
  }
  CloseHandle(h);
  // WRITE_THROUGH: the call returns only once the rename is on disk.
  if (!MoveFileExW(Wide(tmp).c_str(), Wide(path).c_str(),
                   MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return ApiError("MoveFileExW", path);
  }
  return true;
}

Expected<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  HANDLE h = CreateFileW(Wide(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD err = GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) {
      return std::optional<std::string>();
    }
    return ApiError("CreateFileW", path);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    DWORD n = 0;
    if (!ReadFile(h, buf, sizeof buf, &n, nullptr)) {
      Error e = ApiError("ReadFile", path);
      CloseHandle(h);
      return e;
    }
    if (n == 0) break;
    out.append(buf, n);
  }
  CloseHandle(h);
  return std::optional<std::string>(std::move(out));
}

void RemoveFileIfExists(const std::string& path) { DeleteFileW(Wide(path).c_str()); }

Expected<bool> CreateParentDirectories(const std::string& path) {
  const std::filesystem::path dir = std::filesystem::path(Wide(path)).parent_path();
  if (dir.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create directory " + Utf8(dir.wstring()) + ": " + ec.message()};
  return true;
}

std::string HostName() {
  wchar_t name[256] = {};
  DWORD size = 256;
  if (!GetComputerNameExW(ComputerNameDnsHostname, name, &size) || size == 0) return "localhost";
  return Utf8(std::wstring(name, size));
}

std::string DefaultQueuePath() {
  wchar_t dir[MAX_PATH] = {};
  DWORD n = GetEnvironmentVariableW(L"ProgramData", dir, MAX_PATH);
  std::string base = n > 0 && n < MAX_PATH ? Utf8(std::wstring(dir, n)) : "C:\\ProgramData";
  return base + "\\portwarden\\alert-queue.json";
}

}  // namespace portwarden::notifier
