#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/poll.h"

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

/// A TCP listener held by this test process on 127.0.0.1:0 (or the given port).
class TcpListener {
 public:
  explicit TcpListener(const std::string& address = "127.0.0.1", int port = 0);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// A forked child that names itself `name` (comm), binds TCP `address`:`port` with
/// SO_REUSEADDR, listens, and waits to be killed. The constructor returns once it listens
/// (ok() false if the bind failed). Killed and reaped on destruction.
class ListenerProcess {
 public:
  ListenerProcess(const std::string& name, const std::string& address, int port);
  ~ListenerProcess();
  ListenerProcess(const ListenerProcess&) = delete;
  ListenerProcess& operator=(const ListenerProcess&) = delete;
  bool ok() const { return ok_; }
  int pid() const { return pid_; }
  void Kill();

 private:
  int pid_ = -1;
  bool ok_ = false;
};

/// A free TCP port on 127.0.0.1 (bound to 0 and released).
int FreePort();

/// A TCP connection to 127.0.0.1:port that sends nothing by itself: its fd (the caller
/// closes it), or -1 if refused.
int ConnectLoopback(int port);
/// Connects to 127.0.0.1:port and hangs up at once (a first connection, e.g. one that
/// starts a socket-activated service); false if refused.
bool ConnectAndClose(int port);

/// portwarden `run` on 127.0.0.1:0 with a 200 ms interval plus `extra` flags, started
/// through `wrapper` (e.g. setpriv and its arguments) if given; the constructor waits until
/// it logged the address it listens on (port() 0 if it never did).
class DaemonProcess {
 public:
  explicit DaemonProcess(const std::vector<std::string>& extra = {},
                         const std::vector<std::string>& wrapper = {});
  Child& child() { return *child_; }
  int port() const { return port_; }
  HttpResponse Get(const std::string& path) { return HttpGet("127.0.0.1", port_, path); }

 private:
  std::unique_ptr<Child> child_;
  int port_ = 0;
};

/// Writes `text` to a new temporary file and returns its path.
std::string WriteTempFile(const std::string& text, const std::string& suffix = ".yml");

/// Path of the portwarden binary built with the tests.
std::string PortwardenBinary();

/// Runs a command through the shell and returns its exit status and combined output.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command, const std::string& stdin_text = "");

/// The ports of the addresses portwarden logged at start ("address=A:1,[::1]:2"), in order;
/// empty if it logged none yet.
std::vector<int> ListenPortsFromLog(const std::string& log);

/// Parses the listen address's port (logfmt or JSON) out of portwarden's start-up log line; 0 if not there yet.
int ListenPortFromLog(const std::string& log);

}  // namespace portwarden::testing
