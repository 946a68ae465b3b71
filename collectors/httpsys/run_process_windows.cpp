// Windows: CreateProcessW with an overlapped pipe and a job object, read against a deadline
// on one thread.
#include <windows.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "collectors/httpsys/bytes.h"
#include "collectors/httpsys/run_process.h"
#include "collectors/common/wide_windows.h"

namespace portwarden::httpsys {
namespace {

using internal::HexCode;

/// netsh's largest listing (servicestate on a busy IIS) is a few MB; more is a runaway child.
constexpr size_t kMaxOutputBytes = 64u << 20;

Error Failed(const std::string& call) {
  return Error{call + " failed: " + HexCode(GetLastError())};
}

/// Owns a handle: closes it at scope exit; movable, not copyable.
class Handle {
 public:
  explicit Handle(HANDLE h = nullptr) : h_(h == INVALID_HANDLE_VALUE ? nullptr : h) {}
  Handle(Handle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      Reset();
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  ~Handle() { Reset(); }
  void Reset() {
    if (h_ != nullptr) CloseHandle(h_);
    h_ = nullptr;
  }
  HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  HANDLE h_;
};

/// Milliseconds left until `deadline`, for the Wait functions.
DWORD Remaining(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<DWORD>(left.count());
}

/// A pipe whose read end we read overlapped (anonymous pipes cannot be), with an inheritable
/// write end for the child. Unique name per call.
struct Pipe {
  Handle read;
  Handle write;
};

Expected<Pipe> MakePipe() {
  static std::atomic<unsigned> counter{0};
  wchar_t name[96];
  std::swprintf(name, 96, L"\\\\.\\pipe\\portwarden-%lu-%u-%llu",
                static_cast<unsigned long>(GetCurrentProcessId()), counter.fetch_add(1),
                static_cast<unsigned long long>(GetTickCount64()));
  Pipe pipe;
  pipe.read = Handle(CreateNamedPipeW(
      name, PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_TYPE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, 0, 64 * 1024, 0, nullptr));
  if (!pipe.read) return Failed("CreateNamedPipeW");
  SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
  pipe.write = Handle(
      CreateFileW(name, GENERIC_WRITE, 0, &inherit, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!pipe.write) return Failed("CreateFileW(pipe)");
  return pipe;
}

/// Kills whatever the child left: the job if it has one, else the process.
void Kill(const Handle& job, const Handle& process) {
  if (job) {
    TerminateJobObject(job.get(), 1);
  } else {
    TerminateProcess(process.get(), 1);
  }
}

}  // namespace

Expected<ProcessResult> RunProcess(std::string_view application, std::string_view arguments,
                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string app(application);
  auto pipe = MakePipe();
  if (!pipe) return pipe.error();
  SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
  Handle nul(CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                         OPEN_EXISTING, 0, nullptr));
  if (!nul) return Failed("CreateFileW(NUL)");

  // Only these two handles go to the child: an inheritable socket or file of ours that it
  // kept open would outlive us in it.
  HANDLE inherited[2] = {nul.get(), pipe->write.get()};
  SIZE_T attr_size = 0;
  InitializeProcThreadAttributeList(nullptr, 1, 0, &attr_size);
  std::vector<uint8_t> attr_storage(attr_size);
  auto* attrs = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attr_storage.data());
  if (!InitializeProcThreadAttributeList(attrs, 1, 0, &attr_size)) {
    return Failed("InitializeProcThreadAttributeList");
  }
  struct AttrGuard {
    LPPROC_THREAD_ATTRIBUTE_LIST list;
    ~AttrGuard() { DeleteProcThreadAttributeList(list); }
  } attr_guard{attrs};
  if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherited,
                                 sizeof inherited, nullptr, nullptr)) {
    return Failed("UpdateProcThreadAttribute");
  }

  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof startup;
  startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  startup.StartupInfo.hStdInput = nul.get();
  startup.StartupInfo.hStdOutput = pipe->write.get();
  startup.StartupInfo.hStdError = pipe->write.get();
  startup.lpAttributeList = attrs;
  std::wstring command_line = L"\"" + Wide(app) + L"\"";
  if (!arguments.empty()) command_line += L" " + Wide(arguments);
  PROCESS_INFORMATION info{};
  if (!CreateProcessW(Wide(app).c_str(), command_line.data(), nullptr, nullptr, TRUE,
                      CREATE_NO_WINDOW | CREATE_SUSPENDED | EXTENDED_STARTUPINFO_PRESENT, nullptr,
                      nullptr, &startup.StartupInfo, &info)) {
    return Failed("CreateProcessW(" + app + ")");
  }
  Handle process(info.hProcess);
  Handle thread(info.hThread);
  // Our copy of the write end must go, or the read below never sees the end of the output.
  pipe->write.Reset();

  // A job, so that a kill also reaches what the child started. Without one (assignment can
  // fail inside a job that forbids nesting, before Windows 8) the child alone is killed.
  Handle job(CreateJobObjectW(nullptr, nullptr));
  if (job) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (!SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &limits,
                                 sizeof limits) ||
        !AssignProcessToJobObject(job.get(), process.get())) {
      job.Reset();
    }
  }
  ResumeThread(thread.get());

  Handle event(CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!event) {
    Kill(job, process);
    return Failed("CreateEventW");
  }
  ProcessResult result;
  std::vector<char> buffer(64 * 1024);
  auto timed_out = [&]() -> Error {
    Kill(job, process);
    return Error{app + " killed after " + std::to_string(timeout.count()) + " ms (timeout), " +
                 std::to_string(result.output.size()) + " bytes read"};
  };
  for (;;) {
    OVERLAPPED overlapped{};
    overlapped.hEvent = event.get();
    ResetEvent(event.get());
    DWORD got = 0;
    BOOL done = ReadFile(pipe->read.get(), buffer.data(), static_cast<DWORD>(buffer.size()), &got,
                         &overlapped);
    if (!done && GetLastError() == ERROR_IO_PENDING) {
      if (WaitForSingleObject(event.get(), Remaining(deadline)) != WAIT_OBJECT_0) {
        CancelIoEx(pipe->read.get(), &overlapped);
        GetOverlappedResult(pipe->read.get(), &overlapped, &got, TRUE);
        return timed_out();
      }
      done = GetOverlappedResult(pipe->read.get(), &overlapped, &got, FALSE);
    }
    if (!done) {
      DWORD code = GetLastError();
      if (code == ERROR_BROKEN_PIPE) break;  // every writer closed: the output is complete
      Kill(job, process);
      return Error{"ReadFile(pipe of " + app + ") failed: " + HexCode(code)};
    }
    result.output.append(buffer.data(), got);
    if (result.output.size() > kMaxOutputBytes) {
      Kill(job, process);
      return Error{app + " wrote more than " + std::to_string(kMaxOutputBytes) + " bytes"};
    }
  }
  if (WaitForSingleObject(process.get(), Remaining(deadline)) != WAIT_OBJECT_0) {
    return timed_out();
  }
  DWORD exit_code = 0;
  GetExitCodeProcess(process.get(), &exit_code);
  result.exit_code = exit_code;
  return result;
}

std::string OemToUtf8(std::string_view bytes) {
  if (bytes.empty()) return {};
  const UINT code_page = GetOEMCP();
  int n =
      MultiByteToWideChar(code_page, 0, bytes.data(), static_cast<int>(bytes.size()), nullptr, 0);
  if (n <= 0) {
    // Only an unusable code page gets here. Labels and JSON need valid UTF-8, so ASCII is
    // kept and every other byte becomes U+FFFD.
    std::string out;
    for (char c : bytes) {
      if (static_cast<unsigned char>(c) < 0x80) {
        out += c;
      } else {
        out += "\xEF\xBF\xBD";
      }
    }
    return out;
  }
  std::wstring wide(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(code_page, 0, bytes.data(), static_cast<int>(bytes.size()), wide.data(), n);
  return Utf8(wide);
}

}  // namespace portwarden::httpsys
