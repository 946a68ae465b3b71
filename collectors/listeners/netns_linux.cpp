#include "collectors/listeners/netns_linux.h"

#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

namespace portwarden {

Expected<int> SocketInNetns(int nsfd, int domain, int type, int protocol) {
  int fd = -1;
  int err = 0;
  const char* step = "setns";
  std::thread([&] {
    if (setns(nsfd, CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    step = "socket";
    fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd < 0) err = errno;
  }).join();
  if (fd < 0) return Error{std::string(step) + " in network namespace: " + std::strerror(err)};
  return fd;
}

}  // namespace portwarden
