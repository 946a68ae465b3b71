// The .socket units of a service manager, read from its unit files below its root, and a
// live systemd (Debian's, systemd 252) booted by the test as PID 1 of a PID and mount
// namespace of its own, holding a socket for a .socket unit: read back through the Linux
// source before the first connection (systemd holds it: the unit and the service it
// activates) and after (the service holds it, handed over by socket activation).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "collectors/listeners/attribution.h"
#include "collectors/listeners/socket_units_linux.h"
#include "collectors/listeners/source_linux.h"
#include "tests/support/test_support.h"

namespace portwarden {
namespace {

namespace fs = std::filesystem;
using testing::PollUntil;
using testing::RunCommand;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A root of unit directories of its own, removed on destruction.
class UnitRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("pw-units-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path Etc() const { return root_ / "etc/systemd/system"; }
  fs::path Lib() const { return root_ / "usr/lib/systemd/system"; }
  std::vector<std::string> Names(const SocketUnitTable& t) const {
    std::vector<std::string> names;
    for (const auto& u : t.units) names.push_back(u.name + "=" + u.service);
    return names;
  }
  fs::path root_;
};

TEST_F(UnitRoot, FirstFileOfANameWinsDropInsMergeMasksAndTemplatesAreLeftOut) {
  Write(Lib() / "ssh.socket", "[Socket]\nListenStream=22\nAccept=yes\n");
  Write(Lib() / "ssh.socket.d/10-port.conf", "[Socket]\nListenStream=\nListenStream=2222\n");
  Write(Etc() / "ssh.socket.d/20-accept.conf", "[Socket]\nAccept=no\n");
  // The same drop-in name in a lower directory is overridden by /etc's.
  Write(Lib() / "ssh.socket.d/20-accept.conf", "[Socket]\nAccept=yes\n");
  Write(Lib() / "web.socket", "[Socket]\nListenStream=80\n");
  Write(Etc() / "web.socket", "[Socket]\nListenStream=127.0.0.1:8080\nService=nginx.service\n");
  Write(Lib() / "cups.socket", "[Socket]\nListenStream=/run/cups/cups.sock\n");  // not IP
  Write(Lib() / "getty@.socket", "[Socket]\nListenStream=%i\n");
  Write(Lib() / "masked.socket", "[Socket]\nListenStream=99\n");
  fs::create_symlink("/dev/null", Etc() / "masked.socket");
  // An absolute link resolves below the root, as the manager sees it.
  Write(root_ / "opt/linked/linked.socket", "[Socket]\nListenDatagram=5353\n");
  fs::create_symlink("/opt/linked/linked.socket", Etc() / "linked.socket");

  SocketUnitLoader loader;
  auto table = loader.Load(root_.string());
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(Names(*table), (std::vector<std::string>{"linked.socket=linked.service",
                                                     "ssh.socket=ssh.service",
                                                     "web.socket=nginx.service"}));
  EXPECT_EQ(table->units[1].listens, (std::vector<SocketUnitListen>{{Proto::kTcp, "", 2222}}));
  EXPECT_EQ(table->units[2].listens,
            (std::vector<SocketUnitListen>{{Proto::kTcp, "127.0.0.1", 8080}}));
}

TEST_F(UnitRoot, TheSameTableUntilAUnitFileOrDirectoryChanges) {
  Write(Lib() / "web.socket", "[Socket]\nListenStream=80\n");
  SocketUnitLoader loader;
  auto first = loader.Load(root_.string());
  EXPECT_EQ(loader.Load(root_.string()), first);

  // A drop-in directory appears: read again.
  Write(Etc() / "web.socket.d/port.conf", "[Socket]\nListenStream=\nListenStream=81\n");
  auto second = loader.Load(root_.string());
  ASSERT_NE(second, first);
  EXPECT_EQ(second->units.at(0).listens.at(0).port, 81);

  // The file rewritten in place with other content (its directory's mtime unchanged).
  std::ofstream(Etc() / "web.socket.d/port.conf") << "[Socket]\nListenStream=\nListenStream=82\n";
  fs::last_write_time(Etc() / "web.socket.d/port.conf",
                      fs::last_write_time(Etc() / "web.socket.d/port.conf") + std::chrono::seconds(1));
  auto third = loader.Load(root_.string());
  ASSERT_NE(third, second);
  EXPECT_EQ(third->units.at(0).listens.at(0).port, 82);

  // Touched without a change: read again, same units, the same table.
  fs::last_write_time(Lib() / "web.socket",
                      fs::last_write_time(Lib() / "web.socket") + std::chrono::seconds(1));
  EXPECT_EQ(loader.Load(root_.string()), third);
}

constexpr const char* kSystemd = "/lib/systemd/systemd";

// systemd as PID 1 of new PID, mount and UTS namespaces, in a cgroup of its own below every
// cgroup hierarchy (it builds its unit tree there, not at the host's root), with a tmpfs
// /run holding the test's units. Killed (its whole PID namespace with it) and its cgroups
// removed on destruction.
class ContainerSystemd {
 public:
  ContainerSystemd(const fs::path& units, const std::string& default_unit) {
    cgroup_ = "pw-systemd-test-" + std::to_string(getpid());
    const std::string boot =
        "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && "
        "cp " + units.string() + "/* /run/systemd/system/ && "
        "exec env container=portwarden-test " + std::string(kSystemd) +
        " --system --unit=" + default_unit + " --log-target=console";
    const std::string script =
        "set -e; for h in $(findmnt -n -l -t cgroup,cgroup2 -o TARGET); do "
        "c=\"$h/" + cgroup_ + "\"; mkdir -p \"$c\"; "
        // A v1 cpuset takes no task before it has CPUs and memory nodes: its parent's, also
        // for the cgroups systemd makes below it.
        "if [ -f \"$h/cpuset.cpus\" ]; then cat \"$h/cpuset.cpus\" > \"$c/cpuset.cpus\"; "
        "cat \"$h/cpuset.mems\" > \"$c/cpuset.mems\"; echo 1 > \"$c/cgroup.clone_children\"; "
        "fi; echo $$ > \"$c/cgroup.procs\"; done; "
        "exec unshare --pid --fork --mount --uts --mount-proc --propagation private sh -c '" +
        boot + "'";
    child_ = std::make_unique<testing::Child>(std::vector<std::string>{"/bin/sh", "-c", script});
  }
  ~ContainerSystemd() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      PollUntil([&] { return access(("/proc/" + std::to_string(pid_)).c_str(), F_OK) != 0; });
    }
    child_.reset();
    RunCommand("for h in $(findmnt -n -l -t cgroup,cgroup2 -o TARGET); do "
               "[ -d \"$h/" + cgroup_ + "\" ] && find \"$h/" + cgroup_ +
               "\" -depth -type d -exec rmdir {} +; done; true");
  }
  // The host PID of the systemd, once it holds a socket.
  void SetPid(pid_t pid) { pid_ = pid; }
  std::string Stderr() { return child_->Stderr(); }

 private:
  std::string cgroup_;
  std::unique_ptr<testing::Child> child_;
  pid_t pid_ = -1;
};

class SystemdLiveTest : public UnitRoot {
 protected:
  bool WaitForListener(LinuxListenerSource& source, int port,
                       const std::function<bool(const Listener&)>& pred) {
    return PollUntil([&] {
      auto sample = source.Sample();
      if (!sample) return false;
      for (const Listener& l : BuildListeners(**sample, {}).listeners) {
        if (l.port == port && l.address == "127.0.0.1") {
          last_ = l;
          return pred(l);
        }
      }
      return false;
    });
  }
  Listener last_;
};

TEST_F(SystemdLiveTest, SocketHeldByPid1NamesItsUnitThenTheServiceHandedIt) {
  ASSERT_EQ(access(kSystemd, X_OK), 0) << kSystemd << ": scripts/install-deps.sh installs systemd";
  const int port = testing::FreePort();
  const fs::path units = root_ / "units";
  Write(units / "pwtest.socket", "[Unit]\nDefaultDependencies=no\n[Socket]\nListenStream=127.0.0.1:" +
                                     std::to_string(port) + "\nService=pwserve.service\n");
  Write(units / "pwserve.service",
        std::string("[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=") +
            PORTWARDEN_PORT_HOLDER + " --adopt 3\nStandardOutput=null\nStandardError=null\n");
  ContainerSystemd systemd(units, "pwtest.socket");
  auto source = MakeLinuxListenerSource({});

  ASSERT_TRUE(WaitForListener(*source, port, [](const Listener& l) {
    return l.owner.main().name == "systemd";
  })) << systemd.Stderr();
  systemd.SetPid(static_cast<pid_t>(last_.owner.main().pid));
  EXPECT_NE(last_.owner.main().pid, 1u);  // a host PID: PID 1 only in its own namespace
  EXPECT_EQ(last_.owner.socket_unit, "pwtest.socket");
  EXPECT_EQ(last_.owner.socket_service, "pwserve.service");
  EXPECT_EQ(last_.owner.service(), "pwserve.service");
  EXPECT_EQ(last_.owner.supervisor, nullptr);
  ASSERT_NE(last_.owner.main().socket_units, nullptr);

  // The first connection starts the service, handed the socket (LISTEN_FDNAMES names the
  // unit): it owns the listener, systemd supervises it.
  const uint32_t manager = last_.owner.main().pid;
  ASSERT_TRUE(testing::ConnectAndClose(port));
  ASSERT_TRUE(WaitForListener(*source, port, [](const Listener& l) {
    return l.owner.main().name == "port_holder";
  })) << systemd.Stderr() << " main: " << last_.owner.main().name;
  EXPECT_EQ(last_.owner.socket_unit, "pwtest.socket");
  EXPECT_EQ(last_.owner.socket_service, "");
  ASSERT_NE(last_.owner.supervisor, nullptr);
  EXPECT_EQ(last_.owner.supervisor->pid, manager);
  EXPECT_EQ(last_.owner.main().listen_fds, std::vector<std::string>{"pwtest.socket"});
}

}  // namespace
}  // namespace portwarden
