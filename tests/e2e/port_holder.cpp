// A stand-in server for the alerting end-to-end test: holds a TCP listener so that
// portwarden attributes it to this process, under whatever name the binary was copied to
// ("nginx", "squatter"), since the process name is what expectations match.
//
//   port_holder ADDRESS PORT [NEXT]   bind ADDRESS:PORT (SO_REUSEPORT, so two holders can
//                                     share a port) and listen; on SIGUSR1 exec NEXT with the
//                                     socket inherited: the same socket, a new owner name
//   port_holder --adopt FD            keep an inherited listening socket
// Runs until killed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

volatile sig_atomic_t g_handover = 0;

void OnUsr1(int) { g_handover = 1; }

int Listen(const char* address, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0) {
    std::fprintf(stderr, "port_holder: cannot listen on %s:%d: %s\n", address, port,
                 std::strerror(errno));
    std::exit(1);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--adopt") {
    for (;;) pause();
  }
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: port_holder ADDRESS PORT [NEXT] | port_holder --adopt FD\n");
    return 2;
  }
  const int fd = Listen(argv[1], std::atoi(argv[2]));
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  // Blocked except inside sigsuspend: a SIGUSR1 cannot slip in between the check and the wait.
  sigprocmask(SIG_BLOCK, &usr1, &old);
  signal(SIGUSR1, OnUsr1);
  while (!g_handover) sigsuspend(&old);
  if (argc == 4) {
    const std::string fd_text = std::to_string(fd);
    execl(argv[3], argv[3], "--adopt", fd_text.c_str(), static_cast<char*>(nullptr));
    std::fprintf(stderr, "port_holder: cannot exec %s: %s\n", argv[3], std::strerror(errno));
  }
  return 1;
}
