#include "tests/support/test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <regex>
#include <thread>

namespace portwarden::testing {

HttpResponse HttpRequest(const std::string& host, int port, const std::string& method,
                         const std::string& path, const std::string& body) {
  HttpResponse resp;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return resp;
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool connected = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  if (!connected) {
    if (fd >= 0) close(fd);
    return resp;
  }
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: " + host + "\r\n";
  if (!body.empty()) {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n";
  }
  req += "\r\n" + body;
  (void)!write(fd, req.data(), req.size());
  std::string raw;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) raw.append(buf, size_t(n));
  close(fd);
  size_t split = raw.find("\r\n\r\n");
  if (split == std::string::npos || std::sscanf(raw.c_str(), "HTTP/%*s %d", &resp.status) != 1) {
    return resp;
  }
  resp.headers = raw.substr(0, split);
  resp.body = raw.substr(split + 4);
  return resp;
}

Child::Child(const std::vector<std::string>& argv) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipefd[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  err_fd_ = pipefd[0];
  fcntl(err_fd_, F_SETFL, O_NONBLOCK);
}

Child::~Child() {
  if (pid_ > 0 && status_ < 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (err_fd_ >= 0) close(err_fd_);
}

const std::string& Child::Stderr() {
  char buf[4096];
  ssize_t n;
  while (err_fd_ >= 0 && (n = read(err_fd_, buf, sizeof buf)) > 0) err_.append(buf, size_t(n));
  return err_;
}

void Child::Signal(int sig) {
  if (pid_ > 0 && status_ < 0) kill(pid_, sig);
}

int Child::Wait(std::chrono::milliseconds deadline) {
  if (status_ >= 0) return status_;
  int st = 0;
  bool done = PollUntil([&] { return waitpid(pid_, &st, WNOHANG) == pid_; }, deadline);
  if (!done) return -1;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  Stderr();
  return status_;
}

namespace {

// An IPv4 or (with a colon in it) IPv6 address, bound and listening; -1 on failure.
int BindListen(const std::string& address, int port) {
  const bool v6 = address.find(':') != std::string::npos;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, address.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), len) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return a.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port)
                                 : ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

}  // namespace

TcpListener::TcpListener(const std::string& address, int port) {
  fd_ = BindListen(address, port);
  if (fd_ >= 0) port_ = BoundPort(fd_);
}

TcpListener::~TcpListener() {
  if (fd_ >= 0) close(fd_);
}

int FreePort() {
  TcpListener l;
  return l.port();
}

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool ConnectAndClose(int port) {
  int fd = ConnectLoopback(port);
  if (fd >= 0) close(fd);
  return fd >= 0;
}

ListenerProcess::ListenerProcess(const std::string& name, const std::string& address, int port) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_NAME, name.c_str());
    char ok = BindListen(address, port) >= 0 ? 'y' : 'n';
    (void)!write(ready[1], &ok, 1);
    for (;;) pause();
  }
  close(ready[1]);
  char ok = 'n';
  ok_ = read(ready[0], &ok, 1) == 1 && ok == 'y';
  close(ready[0]);
}

ListenerProcess::~ListenerProcess() { Kill(); }

void ListenerProcess::Kill() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

DaemonProcess::DaemonProcess(const std::vector<std::string>& extra,
                             const std::vector<std::string>& wrapper) {
  std::vector<std::string> argv = wrapper;
  argv.insert(argv.end(), {PortwardenBinary(), "--web.listen-address=127.0.0.1:0",
                           "--collect.interval=200ms"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  child_ = std::make_unique<Child>(argv);
  PollUntil([&] { return (port_ = ListenPortFromLog(child_->Stderr())) != 0; });
}

std::string WriteTempFile(const std::string& text, const std::string& suffix) {
  std::string path = "/tmp/portwarden-test-XXXXXX" + suffix;
  int fd = mkstemps(path.data(), static_cast<int>(suffix.size()));
  if (fd < 0) return "";
  (void)!write(fd, text.data(), text.size());
  close(fd);
  return path;
}

std::string PortwardenBinary() { return PORTWARDEN_BINARY; }

CommandResult RunCommand(const std::string& command, const std::string& stdin_text) {
  CommandResult result;
  char tmpl[] = "/tmp/portwarden-test-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) return result;
  (void)!write(fd, stdin_text.data(), stdin_text.size());
  close(fd);
  FILE* p = popen((command + " < " + tmpl + " 2>&1").c_str(), "r");
  if (p) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) result.output.append(buf, n);
    int st = pclose(p);
    result.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  unlink(tmpl);
  return result;
}

std::vector<int> ListenPortsFromLog(const std::string& log) {
  // logfmt: address=127.0.0.1:1234,[::1]:1235; json: "address":"127.0.0.1:1234"
  static const std::regex kAddresses(R"re(address(?:=|":")([^\s"]+))re");
  static const std::regex kPort(R"re((?:\[[^\]]*\]|[^,:\[]*):(\d+))re");
  std::smatch m;
  std::vector<int> ports;
  if (!std::regex_search(log, m, kAddresses)) return ports;
  const std::string list = m[1];
  for (std::sregex_iterator it(list.begin(), list.end(), kPort), end; it != end; ++it) {
    ports.push_back(std::stoi((*it)[1]));
  }
  return ports;
}

int ListenPortFromLog(const std::string& log) {
  const std::vector<int> ports = ListenPortsFromLog(log);
  return ports.empty() ? 0 : ports.front();
}

}  // namespace portwarden::testing
