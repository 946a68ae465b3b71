// Linux: the proc connector socket. Decoding lives in proc_events.cpp.
#include "collectors/listeners/proc_connector_linux.h"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace portwarden {
namespace {

constexpr unsigned kCnIdxProc = 1;  // CN_IDX_PROC, the multicast group of proc events
// One event is a 76-byte datagram; a burst of forks between two cycles must not
// overflow the queue, whose accounting charges each datagram a full socket buffer.
constexpr int kReceiveBuffer = 8 << 20;
constexpr size_t kBatch = 64;
constexpr size_t kDatagram = 256;

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

bool Send(int fd, bool listen) {
  std::vector<uint8_t> msg = BuildProcEventsControl(listen, 1);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  return sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                sizeof kernel) == static_cast<ssize_t>(msg.size());
}

}  // namespace

Expected<std::unique_ptr<ProcConnector>> ProcConnector::Open() {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0) return Error{Errno("proc connector socket")};
  std::unique_ptr<ProcConnector> conn(new ProcConnector(fd));
  // SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN, which subscribing needs anyway.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBuffer, sizeof kReceiveBuffer) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = kCnIdxProc;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return Error{Errno("proc connector bind")};
  }
  if (!Send(fd, true)) return Error{Errno("proc connector subscribe")};

  // The kernel accepts the subscription silently where it will not deliver (no
  // CAP_NET_ADMIN on older kernels, a PID namespace other than the initial one): only an
  // event about a child of ours, under the PID we see, proves the feed is usable.
  pid_t child = vfork();
  if (child < 0) return Error{Errno("proc connector self-test vfork")};
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  for (;;) {
    auto events = conn->Drain();
    if (!events) return Error{"proc connector: events dropped during the self-test"};
    for (const ProcEvent& e : *events) {
      if (e.kind == ProcEvent::Kind::kFork && e.pid == static_cast<uint32_t>(child)) {
        return conn;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error{
          "proc connector: subscribed, but no event arrived for a test child "
          "(missing CAP_NET_ADMIN, or not in the initial PID namespace)"};
    }
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
}

ProcConnector::~ProcConnector() {
  // Unsubscribing lets the kernel stop building events once no one listens.
  Send(fd_, false);
  close(fd_);
}

std::optional<std::vector<ProcEvent>> ProcConnector::Drain() {
  std::vector<ProcEvent> events;
  bool lost = false;
  uint8_t buffers[kBatch][kDatagram];
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
  for (;;) {
    for (size_t i = 0; i < kBatch; ++i) {
      iov[i] = {buffers[i], kDatagram};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // reported once per overflow; the queue still holds events
        lost = true;
        continue;
      }
      break;  // EAGAIN: drained
    }
    for (int i = 0; i < n; ++i) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        lost = true;
        continue;
      }
      auto decoded = DecodeProcEvents(std::span<const uint8_t>(buffers[i], msgs[i].msg_len));
      if (!decoded) {
        lost = true;
        continue;
      }
      events.insert(events.end(), decoded->begin(), decoded->end());
    }
    if (static_cast<size_t>(n) < kBatch) break;
  }
  if (lost) return std::nullopt;
  return events;
}

}  // namespace portwarden
