#include "collectors/listeners/container.h"

#include <gtest/gtest.h>

#include "collectors/listeners/procfs.h"
#include "tests/unit/listeners/test_util.h"

namespace portwarden {
namespace {

using testing::ReadFixture;

ContainerRef FromFixture(const char* name) {
  return ParseContainer(ReadFixture(std::string("linux/cgroup/") + name));
}

TEST(ParseContainer, DockerDrivers) {
  EXPECT_EQ(FromFixture("docker-systemd-v1.txt"),
            (ContainerRef{"docker", "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d", ""}));
  const std::string id = "3f4e8a1c9b2d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f";
  EXPECT_EQ(FromFixture("docker-systemd-v2.txt"), (ContainerRef{"docker", id, ""}));
  EXPECT_EQ(FromFixture("docker-cgroupfs-v2.txt"), (ContainerRef{"docker", id, ""}));
}

TEST(ParseContainer, PodmanContainersButNotItsMonitor) {
  const std::string id = "7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
  EXPECT_EQ(FromFixture("podman-rootful-v2.txt"), (ContainerRef{"podman", id, ""}));
  EXPECT_EQ(FromFixture("podman-rootless-v2.txt"), (ContainerRef{"podman", id, ""}));
  EXPECT_EQ(FromFixture("podman-conmon-v2.txt"), ContainerRef{});
}

// Captured from rootful podman 4.3.1 on this machine (cgroupfs manager, hybrid cgroups).
TEST(ParseContainer, PodmanCgroupfsCapturedHere) {
  EXPECT_EQ(FromFixture("podman-rootful-cgroupfs-v1.txt"),
            (ContainerRef{"podman", "f59303673e7c29316fff14eff23d72d02c86c2812cfc470300560981011b02da", ""}));
}

TEST(ParseStorageContainerName, NamesFromContainersJson) {
  const std::string json = ReadFixture("linux/cgroup/podman-containers.json");
  EXPECT_EQ(ParseStorageContainerName(
                json, "f59303673e7c29316fff14eff23d72d02c86c2812cfc470300560981011b02da"),
            "pw-try");
  EXPECT_EQ(ParseStorageContainerName(json, std::string(64, 'a')), "");
  EXPECT_EQ(ParseStorageContainerName("", "x"), "");
  EXPECT_EQ(ParseStorageContainerName("{\"id\": \"x\"}", "x"), "");       // not a list
  EXPECT_EQ(ParseStorageContainerName("[{\"id\": \"x\", \"names\": []}]", "x"), "");
  EXPECT_EQ(ParseStorageContainerName("[1, {\"id\": \"x\", \"names\": [\"a\", \"b\"]}]", "x"), "a");
}

TEST(ParseContainer, KubernetesPods) {
  EXPECT_EQ(FromFixture("kubepods-containerd-systemd-v2.txt"),
            (ContainerRef{"containerd", "0a1b22ec1361a97c3511db37a4bae932d41b22264e5b97611748f8b662312574",
                          "28c6b84f-4b17-4bac-9ca4-c7c794ebfefc"}));
  EXPECT_EQ(FromFixture("kubepods-cgroupfs-v1.txt"),
            (ContainerRef{"kubernetes", "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376",
                          "74c13223-5a00-11e9-b385-42010a80018d"}));
  EXPECT_EQ(FromFixture("kubepods-crio-systemd-v2.txt"),
            (ContainerRef{"cri-o", "0a1b22ec1361a97c3511db37a4bae932d41b22264e5b97611748f8b662312574",
                          "fbc202d3-da21-11e8-ab5e-42010a80014b"}));
}

TEST(ParseContainer, NotInAContainer) {
  EXPECT_EQ(FromFixture("host-service-v2.txt"), ContainerRef{});
  EXPECT_EQ(ParseContainer(""), ContainerRef{});
  EXPECT_EQ(ParseContainer("garbage without colons\n"), ContainerRef{});
  // Not 64 hex digits: a unit that merely starts like one.
  EXPECT_EQ(ParseContainer("0::/system.slice/docker-registry.scope\n"), ContainerRef{});
  EXPECT_EQ(ParseContainer("0::/system.slice/docker.service\n"), ContainerRef{});
  // A pod's slice without a container below it (its own cgroup, not a container's).
  EXPECT_EQ(ParseContainer("0::/kubepods.slice/kubepods-pod28c6b84f_4b17_4bac_9ca4_c7c794ebfefc.slice\n"),
            ContainerRef{});
  // Upper-case hex is not what the runtimes write.
  EXPECT_EQ(ParseContainer("0::/docker/3F4E8A1C9B2D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F\n"),
            ContainerRef{});
}

TEST(ParseContainer, UnifiedHierarchyWinsOverV1) {
  const std::string a(64, 'a');
  const std::string b(64, 'b');
  EXPECT_EQ(ParseContainer("1:name=systemd:/docker/" + a + "\n0::/docker/" + b + "\n").id, b);
}

TEST(ShortContainerId, IsDockerPsLength) {
  EXPECT_EQ(ShortContainerId("3f4e8a1c9b2d7e6f5a4b3c2d"), "3f4e8a1c9b2d");
}

TEST(ParseDockerConfigName, StripsTheSlash) {
  EXPECT_EQ(ParseDockerConfigName(ReadFixture("linux/cgroup/docker-config.v2.json")), "web-1");
  EXPECT_EQ(ParseDockerConfigName("{\"Name\": 7}"), "");
  EXPECT_EQ(ParseDockerConfigName("{\"Name\": \"/web"), "");  // truncated
  EXPECT_EQ(ParseDockerConfigName("[]"), "");
}

std::string Environ(std::initializer_list<std::string> vars) {
  std::string out;
  for (const auto& v : vars) out += v + '\0';
  return out;
}

TEST(ParseListenFds, ActivatedProcess) {
  auto fds = ParseListenFds(
      Environ({"PATH=/bin", "LISTEN_PID=812", "LISTEN_FDS=2", "LISTEN_FDNAMES=sshd.socket:other"}),
      812);
  ASSERT_TRUE(fds);
  EXPECT_EQ(*fds, (std::vector<std::string>{"sshd.socket", "other"}));
}

TEST(ParseListenFds, MissingNamesReadUnknown) {
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_FDS=2", "LISTEN_PID=9"}), 9),
            (std::vector<std::string>{"unknown", "unknown"}));
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_FDS=2", "LISTEN_PID=9", "LISTEN_FDNAMES=a"}), 9),
            (std::vector<std::string>{"a", "unknown"}));
  // More names than fds: the extra ones are ignored.
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_FDS=1", "LISTEN_PID=9", "LISTEN_FDNAMES=a:b"}), 9),
            (std::vector<std::string>{"a"}));
}

TEST(ParseListenFds, NotActivated) {
  // Inherited from a parent that was activated: LISTEN_PID is the parent's.
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_PID=812", "LISTEN_FDS=1"}), 813), std::nullopt);
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_FDS=1"}), 1), std::nullopt);
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_PID=1"}), 1), std::nullopt);
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_PID=1", "LISTEN_FDS=0"}), 1), std::nullopt);
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_PID=1x", "LISTEN_FDS=1"}), 1), std::nullopt);
  EXPECT_EQ(ParseListenFds(Environ({"LISTEN_PID=1", "LISTEN_FDS=99999999"}), 1), std::nullopt);
  EXPECT_EQ(ParseListenFds("", 1), std::nullopt);
  // Truncated mid-variable: the cut value does not parse.
  EXPECT_EQ(ParseListenFds(std::string("LISTEN_PID=1\0LISTEN_FDS=", 24), 1), std::nullopt);
}

}  // namespace
}  // namespace portwarden
