// Live: a socket held by systemd-socket-activate (Debian's systemd package) for a child:
// before the first connection the launcher alone holds it; after, it has exec'd a shell
// (the supervisor, handed the socket) that started the serving process (handed it on with
// LISTEN_PID set to itself). Read back through the Linux source and BuildListeners.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "collectors/listeners/attribution.h"
#include "collectors/listeners/source_linux.h"
#include "tests/support/test_support.h"

namespace portwarden {
namespace {

using testing::Child;
using testing::PollUntil;

constexpr const char* kActivate = "/usr/bin/systemd-socket-activate";

class ActivationTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (access(kActivate, X_OK) != 0) GTEST_SKIP() << kActivate << " not installed";
    LinuxSourceOptions options;
    options.use_proc_events = GetParam();
    source_ = MakeLinuxListenerSource(options);
  }

  // The serving process outlives the launcher's PID being killed: kill every holder seen.
  void TearDown() override {
    for (const auto& h : last_.owner.holders) kill(static_cast<pid_t>(h->pid), SIGKILL);
  }

  // Samples until pred holds for the listener on port (or the deadline passes).
  bool WaitForListener(int port, const std::function<bool(const Listener&)>& pred) {
    return PollUntil([&] {
      auto sample = source_->Sample();
      if (!sample) return false;
      ListenerSet set = BuildListeners(**sample, {});
      for (const Listener& l : set.listeners) {
        if (l.port == port && l.address == "127.0.0.1") {
          last_ = l;
          return pred(l);
        }
      }
      return false;
    });
  }

  std::unique_ptr<LinuxListenerSource> source_;
  Listener last_;
};

TEST_P(ActivationTest, ServingChildAndSupervisorAreReportedApart) {
  const int port = testing::FreePort();
  // The inner sh is a process of its own, so $$ is its PID: it sets LISTEN_PID to itself
  // and execs the holder, which keeps fd 3 (the socket) as the serving process.
  const std::string script = std::string("sh -c \"exec env LISTEN_PID=\\$\\$ ") +
                             PORTWARDEN_PORT_HOLDER + " --adopt 3\" & wait";
  Child launcher({kActivate, "-l", "127.0.0.1:" + std::to_string(port), "--fdname=web.socket",
                  "--", "/bin/sh", "-c", script});

  // Before a connection the launcher alone holds it, not handed to anyone yet.
  ASSERT_TRUE(WaitForListener(port, [&](const Listener& l) {
    return l.owner.main().pid == static_cast<uint32_t>(launcher.pid());
  })) << launcher.Stderr();
  EXPECT_EQ(last_.owner.main().name, "systemd-socket-");  // comm is cut at 15 bytes
  EXPECT_EQ(last_.owner.supervisor, nullptr);
  EXPECT_EQ(last_.owner.socket_unit, "");

  ASSERT_TRUE(testing::ConnectAndClose(port));
  ASSERT_TRUE(WaitForListener(port, [](const Listener& l) {
    return l.owner.main().name == "port_holder" && l.owner.supervisor != nullptr;
  })) << launcher.Stderr() << " main: " << last_.owner.main().name;
  EXPECT_EQ(last_.owner.socket_unit, "web.socket");
  // The launcher exec'd the shell in place: the supervisor is that PID, the parent of the
  // serving process.
  EXPECT_EQ(last_.owner.supervisor->pid, static_cast<uint32_t>(launcher.pid()));
  EXPECT_EQ(last_.owner.supervisor->name, "sh");
  EXPECT_EQ(last_.owner.main().ppid, static_cast<uint32_t>(launcher.pid()));
  EXPECT_EQ(last_.owner.holders.size(), 2u);
  EXPECT_EQ(last_.owner.main().listen_fds, std::vector<std::string>{"web.socket"});
}

INSTANTIATE_TEST_SUITE_P(Events, ActivationTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "events" : "fallback"; });

}  // namespace
}  // namespace portwarden
