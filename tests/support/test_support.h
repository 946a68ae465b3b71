#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace portwarden::testing {

/// One HTTP/1.0 exchange over a plain TCP socket (no client library in between).
struct HttpResponse {
  int status = 0;  ///< 0: no connection or no parsable answer
  std::string headers;
  std::string body;
};
HttpResponse HttpRequest(const std::string& host, int port, const std::string& method,
                         const std::string& path, const std::string& body = "");
inline HttpResponse HttpGet(const std::string& host, int port, const std::string& path) {
  return HttpRequest(host, port, "GET", path);
}

/// Polls cond every 20 ms until it holds or the deadline passes; returns its last value.
bool PollUntil(const std::function<bool()>& cond,
               std::chrono::milliseconds deadline = std::chrono::seconds(10));

/// A child process with its stderr captured (stdout inherits). Killed on destruction.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  int pid() const { return pid_; }
  /// Everything the child wrote to stderr so far (non-blocking).
  const std::string& Stderr();
  /// Sends a signal.
  void Signal(int sig);
  /// Waits for exit up to the deadline; returns the exit code, 128+signal, or -1 on timeout.
  int Wait(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  int pid_ = -1;
  int err_fd_ = -1;
  int status_ = -1;
  std::string err_;
};

/// Path of the portwarden binary built with the tests.
std::string PortwardenBinary();

/// Runs a command through the shell and returns its exit status and combined output.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command, const std::string& stdin_text = "");

/// Parses the listen address's port (logfmt or JSON) out of portwarden's start-up log line; 0 if not there yet.
int ListenPortFromLog(const std::string& log);

}  // namespace portwarden::testing
