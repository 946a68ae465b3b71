// Live: a real rootful podman container (Debian 12's podman 4.3.1) serving on port 80 in its
// own namespace, published on a host port. Both listeners are attributed to the container
// by its name: the one inside from its cgroup (libpod-ID) and containers/storage's
// containers.json, the published one held by conmon (podman's port reservation) from
// conmon's -c ID; the DNAT rule netavark adds, read from nf_tables, names the httpd as where
// the port goes. No registry is needed: the image is imported from Debian's busybox-static.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "collectors/listeners/source_linux.h"
#include "tests/support/test_support.h"

namespace portwarden {
namespace {

using testing::CommandResult;
using testing::PollUntil;
using testing::RunCommand;

// A one-file image: busybox-static as /bin/busybox, imported as `image`.
bool ImportImage(const std::string& image) {
  const std::string dir = "/tmp/pw-podman-image-" + std::to_string(getpid());
  CommandResult r = RunCommand("rm -rf " + dir + " && mkdir -p " + dir + "/bin && cp /bin/busybox " +
                               dir + "/bin/ && tar -C " + dir + " -cf " + dir + ".tar . && " +
                               "podman import -q " + dir + ".tar " + image + "; s=$?; rm -rf " +
                               dir + " " + dir + ".tar; exit $s");
  return r.status == 0;
}

// A container, removed on destruction. runc, not Debian's default crun: crun refuses
// hybrid cgroup hosts (v1 controllers with a v2 hierarchy, as CI's machines have). The
// ulimits are set below the host's because root there lacks CAP_SYS_RESOURCE, and podman
// would ask the runtime to raise them.
class Container {
 public:
  Container(const std::string& name, const std::string& image, int host_port)
      : name_(name), image_(image) {
    RunCommand("podman rm -f " + name_ + " >/dev/null 2>&1");
    run_ = RunCommand("podman --runtime /usr/bin/runc run -d --name " + name_ +
                      " --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -p 127.0.0.1:" +
                      std::to_string(host_port) + ":80 " + image_ + " /bin/busybox httpd -f -p 80");
  }
  ~Container() {
    RunCommand("podman rm -f -t 0 " + name_ + " >/dev/null 2>&1");
    RunCommand("podman rmi -f " + image_ + " >/dev/null 2>&1");
  }
  const CommandResult& run() const { return run_; }
  // The container's main process on the host.
  int Pid() const {
    CommandResult r = RunCommand("podman inspect -f '{{.State.Pid}}' " + name_);
    return r.status == 0 ? std::atoi(r.output.c_str()) : 0;
  }

 private:
  std::string name_;
  std::string image_;
  CommandResult run_;
};

TEST(PodmanTest, InsideAndPublishedListenersNameTheContainer) {
  ASSERT_EQ(geteuid(), 0u) << "rootful podman needs root";
  const std::string name = "pw-test-" + std::to_string(getpid());
  const std::string image = "localhost/" + name;
  ASSERT_TRUE(ImportImage(image));
  const int host_port = testing::FreePort();
  Container c(name, image, host_port);
  ASSERT_EQ(c.run().status, 0) << c.run().output;
  const int pid = c.Pid();
  ASSERT_GT(pid, 0);

  auto source = MakeLinuxListenerSource(LinuxSourceOptions{});
  const Process* inside = nullptr;
  const Process* published = nullptr;
  const OwnedSocket* nat = nullptr;
  OwnedSockets last;
  ASSERT_TRUE(PollUntil([&] {
    auto sample = source->Sample();
    if (!sample) return false;
    last = *sample;
    inside = published = nullptr;
    nat = nullptr;
    for (const auto& s : *last) {
      const bool host_side = s.socket.port == host_port && s.socket.address == "127.0.0.1";
      if (host_side && s.kind == OwnerKind::kNat) nat = &s;
      for (const auto& h : s.holders) {
        if (s.socket.port == 80 && h->pid == static_cast<uint32_t>(pid)) inside = h.get();
        if (host_side && s.kind == OwnerKind::kProcess) published = h.get();
      }
    }
    return inside && published && nat;
  })) << "inside " << (inside != nullptr) << " published " << (published != nullptr)
      << " nat " << (nat != nullptr);

  EXPECT_EQ(inside->name, "busybox");
  EXPECT_EQ(inside->container, name);
  EXPECT_EQ(inside->container_runtime, "podman");
  EXPECT_EQ(published->name, "conmon");
  EXPECT_EQ(published->container, name);
  EXPECT_EQ(published->container_runtime, "podman");
  // conmon forwards into the container's namespace: the one its httpd listens in.
  std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/net";
  struct stat st {};
  ASSERT_EQ(stat(ns_path.c_str(), &st), 0);
  EXPECT_EQ(published->forwards_netns, st.st_ino);
  // netavark's DNAT rule (iptables-nft) carries the traffic: read from nf_tables, it
  // forwards to the container's address and port 80, where its httpd listens.
  EXPECT_EQ(nat->forwards_to.substr(nat->forwards_to.size() - 3), ":80") << nat->forwards_to;
  ASSERT_EQ(nat->holders.size(), 1u) << nat->forwards_to;
  EXPECT_EQ(nat->holders[0]->pid, static_cast<uint32_t>(pid));
  EXPECT_EQ(nat->holders[0]->container, name);
}

}  // namespace
}  // namespace portwarden
