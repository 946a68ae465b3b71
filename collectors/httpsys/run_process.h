#pragma once

// Running a console program with its output captured and a deadline, for netsh (Windows
// only: built with platform_windows.cpp). No OS header here.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "collectors/common/expected.h"

namespace portwarden::httpsys {

/// What a finished child wrote (stdout and stderr, interleaved as written) and its exit code.
struct ProcessResult {
  uint32_t exit_code = 0;
  std::string output;  ///< raw bytes, in the child's console code page
};

/// Runs `application` (an absolute path, UTF-8) with `arguments` appended to its quoted path
/// as the command line. The child gets NUL as stdin, one pipe as stdout and stderr, no
/// window, and inherits no other handle (the exporter's listening sockets stay ours). It
/// runs in a job object, so a kill also takes any process it started. When `timeout`
/// expires first, the job is killed and the result is an Error saying so.
/// Errors name the call that failed and the code in hex, e.g.
/// "CreateProcessW(C:\Windows\System32\netsh.exe) failed: 0x00000002". Never throws;
/// thread-safe (every call has its own pipe and job).
Expected<ProcessResult> RunProcess(std::string_view application, std::string_view arguments,
                                   std::chrono::milliseconds timeout);

/// Console output bytes in the OEM code page (what netsh writes to a pipe: its console is
/// created with the system's OEM code page, e.g. 437 or 850) as UTF-8.
std::string OemToUtf8(std::string_view bytes);

}  // namespace portwarden::httpsys
