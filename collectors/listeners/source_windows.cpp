// Windows: sockets and owning PIDs from the IP Helper API (GetExtendedTcpTable /
// GetExtendedUdpTable), owners from toolhelp, the process token and the service manager.
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <tlhelp32.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collectors/listeners/source.h"
#include "collectors/listeners/win_owners.h"
#include "collectors/listeners/win_tables.h"
#include "collectors/common/wide_windows.h"

namespace portwarden {
namespace {

// The decoder mirrors the documented row layouts; hold it to the SDK's real structs.
static_assert(sizeof(MIB_TCPROW_OWNER_PID) == kWinTcpRowOwnerPidSize);
static_assert(sizeof(MIB_TCP6ROW_OWNER_PID) == kWinTcp6RowOwnerPidSize);
static_assert(sizeof(MIB_UDPROW_OWNER_PID) == kWinUdpRowOwnerPidSize);
static_assert(sizeof(MIB_UDP6ROW_OWNER_PID) == kWinUdp6RowOwnerPidSize);

std::string Hex(DWORD code) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%08lx", static_cast<unsigned long>(code));
  return buf;
}

// Calls GetExtended{Tcp,Udp}Table until the buffer is big enough: tables grow between the
// size query and the read, so ERROR_INSUFFICIENT_BUFFER is retried with the new size.
template <typename Fn>
Expected<std::vector<uint8_t>> ReadTable(const char* api, Fn call) {
  std::vector<uint8_t> buf(16 * 1024);
  for (int attempt = 0; attempt < 8; ++attempt) {
    DWORD size = static_cast<DWORD>(buf.size());
    DWORD rc = call(buf.data(), &size);
    if (rc == NO_ERROR) {
      buf.resize(size);
      return buf;
    }
    if (rc != ERROR_INSUFFICIENT_BUFFER) return Error{std::string(api) + " failed: " + Hex(rc)};
    buf.resize(size + size / 4 + 1024);
  }
  return Error{std::string(api) + ": table kept growing (ERROR_INSUFFICIENT_BUFFER 8 times)"};
}

// The per-process reads, each through PROCESS_QUERY_LIMITED_INFORMATION (granted for most
// processes, also to a service account).
class Win32ProcessReader : public WinProcessReader {
 public:
  std::optional<uint64_t> CreationTime(uint32_t pid) override {
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (h == nullptr) return std::nullopt;
    FILETIME created, exited, kernel, user;
    std::optional<uint64_t> out;
    if (GetProcessTimes(h, &created, &exited, &kernel, &user)) {
      out = (uint64_t{created.dwHighDateTime} << 32) | created.dwLowDateTime;
    }
    CloseHandle(h);
    return out;
  }

  std::string ImagePath(uint32_t pid) override {
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (h == nullptr) return {};
    wchar_t path[MAX_PATH * 2];
    DWORD len = static_cast<DWORD>(std::size(path));
    std::string out;
    if (QueryFullProcessImageNameW(h, 0, path, &len)) out = Utf8(std::wstring_view(path, len));
    CloseHandle(h);
    return out;
  }

  // DOMAIN\user of the process token; empty where the token cannot be read.
  std::string User(uint32_t pid) override {
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (h == nullptr) return {};
    std::string out;
    HANDLE token = nullptr;
    if (OpenProcessToken(h, TOKEN_QUERY, &token)) {
      DWORD size = 0;
      GetTokenInformation(token, TokenUser, nullptr, 0, &size);
      std::vector<uint8_t> buf(size);
      if (size > 0 && GetTokenInformation(token, TokenUser, buf.data(), size, &size)) {
        out = AccountName(reinterpret_cast<TOKEN_USER*>(buf.data())->User.Sid);
      }
      CloseHandle(token);
    }
    CloseHandle(h);
    return out;
  }

 private:
  static std::string AccountName(PSID sid) {
    wchar_t name[256], domain[256];
    DWORD name_len = 256, domain_len = 256;
    SID_NAME_USE use;
    if (!LookupAccountSidW(nullptr, sid, name, &name_len, domain, &domain_len, &use)) return {};
    std::string d = Utf8(domain);
    return d.empty() ? Utf8(name) : d + "\\" + Utf8(name);
  }
};

class WindowsListenerSource : public ListenerSource {
 public:
  Expected<OwnedSockets> Sample() override {
    std::vector<SocketEntry> entries;
    for (Family family : {Family::kIpv4, Family::kIpv6}) {
      ULONG af = family == Family::kIpv4 ? AF_INET : AF_INET6;
      auto tcp = ReadTable("GetExtendedTcpTable", [af](void* p, DWORD* size) {
        return GetExtendedTcpTable(p, size, FALSE, af, TCP_TABLE_OWNER_PID_LISTENER, 0);
      });
      if (!tcp) return tcp.error();
      auto tcp_rows = DecodeWinTcpTable(*tcp, family, WinTableClass::kOwnerPid);
      if (!tcp_rows) return tcp_rows.error();
      auto udp = ReadTable("GetExtendedUdpTable", [af](void* p, DWORD* size) {
        return GetExtendedUdpTable(p, size, FALSE, af, UDP_TABLE_OWNER_PID, 0);
      });
      if (!udp) return udp.error();
      auto udp_rows = DecodeWinUdpTable(*udp, family, WinTableClass::kOwnerPid);
      if (!udp_rows) return udp_rows.error();
      for (auto* rows : {&*tcp_rows, &*udp_rows}) {
        for (auto& e : *rows) entries.push_back(std::move(e));
      }
    }

    return owners_.Attribute(std::move(entries), SnapshotProcesses(), ServicesByPid());
  }

  std::string Backend() const override { return "iphlpapi"; }

 private:
  // pid -> name and parent, from one toolhelp snapshot.
  static std::map<uint32_t, Process> SnapshotProcesses() {
    std::map<uint32_t, Process> out;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) return out;
    PROCESSENTRY32W pe{};
    pe.dwSize = sizeof pe;
    for (BOOL ok = Process32FirstW(snap, &pe); ok; ok = Process32NextW(snap, &pe)) {
      Process p;
      p.pid = pe.th32ProcessID;
      p.ppid = pe.th32ParentProcessID;
      p.name = Utf8(pe.szExeFile);
      out[p.pid] = std::move(p);
    }
    CloseHandle(snap);
    return out;
  }

  // pid -> "Svc1,Svc2": every running Win32 service hosted in that process (svchost hosts
  // several).
  static std::map<uint32_t, std::string> ServicesByPid() {
    std::map<uint32_t, std::string> out;
    SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ENUMERATE_SERVICE);
    if (scm == nullptr) return out;
    DWORD needed = 0, count = 0, resume = 0;
    std::vector<uint8_t> buf(64 * 1024);
    for (;;) {
      BOOL ok = EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE,
                                      buf.data(), static_cast<DWORD>(buf.size()), &needed,
                                      &count, &resume, nullptr);
      auto* rows = reinterpret_cast<ENUM_SERVICE_STATUS_PROCESSW*>(buf.data());
      for (DWORD i = 0; i < count; ++i) {
        DWORD pid = rows[i].ServiceStatusProcess.dwProcessId;
        if (pid == 0) continue;
        std::string& s = out[pid];
        if (!s.empty()) s += ',';
        s += Utf8(rows[i].lpServiceName);
      }
      if (ok || GetLastError() != ERROR_MORE_DATA) break;
      if (needed > buf.size()) buf.resize(needed);
    }
    CloseServiceHandle(scm);
    return out;
  }

  Win32ProcessReader reader_;
  WinOwnerCache owners_{reader_};
};

}  // namespace

std::unique_ptr<ListenerSource> MakeListenerSource(const SourceOptions&) {
  return std::make_unique<WindowsListenerSource>();
}

}  // namespace portwarden
