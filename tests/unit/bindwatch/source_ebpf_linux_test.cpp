// The bind watch's kernel source live, as root: a real listener and real failed binds of
// child processes must arrive with the child's PID, name, executable and the address asked.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <optional>

#include "collectors/bindwatch/source.h"
#include "tests/support/poll.h"
#include "tests/support/test_support.h"

namespace portwarden {
namespace {

// A child named `name` that tries to bind 127.0.0.1:port (as `uid` if not 0) and, the bind
// having failed, stays until killed, so that /proc still shows it when its event is read.
pid_t FailingBinder(const char* name, int port, uid_t uid) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NAME, name);
    if (uid != 0 && setuid(uid) != 0) _exit(3);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) _exit(4);
    for (;;) pause();
  }
  return pid;
}

void Reap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// Polls the source until an event matches.
std::optional<BindEvent> WaitFor(BindEventSource& source,
                                 const std::function<bool(const BindEvent&)>& match) {
  std::optional<BindEvent> found;
  testing::PollUntil([&] {
    for (BindEvent& e : source.Poll(100)) {
      if (match(e)) found = std::move(e);
    }
    return found.has_value();
  }, std::chrono::seconds(30));
  return found;
}

class BindWatchLive : public ::testing::Test {
 protected:
  void SetUp() override {
    auto source = OpenBindEventSource();
    ASSERT_TRUE(source) << source.error().message;
    source_ = std::move(*source);
    EXPECT_EQ(source_->Name(), "ebpf");
  }
  std::unique_ptr<BindEventSource> source_;
};

TEST_F(BindWatchLive, NewListenerThenFailedBindOfAnotherProcess) {
  const int port = testing::FreePort();
  testing::ListenerProcess holder("pw-holder", "127.0.0.1", port);
  ASSERT_TRUE(holder.ok());
  auto listening = WaitFor(*source_, [&](const BindEvent& e) {
    return e.kind == BindEvent::Kind::kListening && e.port == port;
  });
  ASSERT_TRUE(listening);
  EXPECT_EQ(listening->caller.pid, static_cast<uint32_t>(holder.pid()));
  EXPECT_EQ(listening->address, "127.0.0.1");
  EXPECT_EQ(listening->proto, Proto::kTcp);

  const pid_t caller = FailingBinder("pw-caller", port, 0);
  auto failed = WaitFor(*source_, [&](const BindEvent& e) {
    return e.kind == BindEvent::Kind::kBindFailed && e.port == port;
  });
  Reap(caller);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->caller.pid, static_cast<uint32_t>(caller));
  EXPECT_EQ(failed->caller.name, "pw-caller");
  char exe[4096] = {};
  ASSERT_GT(readlink("/proc/self/exe", exe, sizeof exe - 1), 0);
  EXPECT_EQ(failed->caller.exe, exe);  // the forked test binary
  EXPECT_EQ(failed->caller.user, "root");
  EXPECT_EQ(failed->address, "127.0.0.1");
  EXPECT_EQ(failed->proto, Proto::kTcp);
  EXPECT_EQ(ErrnoName(failed->error), "EADDRINUSE");
  EXPECT_GT(failed->time, 1.6e9);
  EXPECT_EQ(source_->Dropped(), 0u);
}

TEST_F(BindWatchLive, PrivilegedPortRefusedToAnUnprivilegedUser) {
  const pid_t caller = FailingBinder("pw-nobody", 81, 65534);
  auto failed = WaitFor(*source_, [&](const BindEvent& e) {
    return e.kind == BindEvent::Kind::kBindFailed && e.caller.pid == static_cast<uint32_t>(caller);
  });
  Reap(caller);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->port, 81);
  EXPECT_EQ(ErrnoName(failed->error), "EACCES");
  EXPECT_EQ(failed->caller.user, "nobody");
}

}  // namespace
}  // namespace portwarden
