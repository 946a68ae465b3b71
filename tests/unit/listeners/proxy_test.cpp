// Port proxies' command lines, in the shapes their launchers build them, and the
// RTM_GETADDR dump that finds the namespace holding docker-proxy's -container-ip.
#include "collectors/listeners/proxy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace portwarden {
namespace {

std::string Cmdline(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += a + '\0';
  return out;
}

TEST(PortProxyTest, KnowsTheProxiesByProcessName) {
  for (const char* name : {"docker-proxy", "slirp4netns", "pasta", "passt", "passt.avx2", "conmon",
                           "rootlessport"}) {
    EXPECT_TRUE(IsPortProxy(name)) << name;
  }
  for (const char* name : {"nginx", "dockerd", "docker-proxy2", "conmon-rs", "exe", ""}) {
    EXPECT_FALSE(IsPortProxy(name)) << name;
  }
}

// The argv Docker's libnetwork builds for its userland proxy
// (libnetwork/portmapper/proxy_linux.go, newProxyCommand, Docker 20.10 to 27).
TEST(PortProxyTest, DockerProxyNamesTheContainerAddress) {
  auto t = ParseProxyCmdline(Cmdline({"/usr/bin/docker-proxy", "-proto", "tcp", "-host-ip",
                                      "0.0.0.0", "-host-port", "8080", "-container-ip",
                                      "172.17.0.2", "-container-port", "80"}));
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, (ProxyTarget{"172.17.0.2", 0, "", "", ""}));
  // Go's flag package also takes --flag and -flag=value; IPv6 container addresses as is.
  t = ParseProxyCmdline(Cmdline({"docker-proxy", "--proto=tcp", "--container-ip=fd00::2",
                                 "--container-port=80"}));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->container_ip, "fd00::2");
  // No address (a flag without its value, or none at all): no target.
  EXPECT_FALSE(ParseProxyCmdline(Cmdline({"docker-proxy", "-proto", "tcp", "-container-ip"})));
  EXPECT_FALSE(ParseProxyCmdline(Cmdline({"docker-proxy", "-container-ip="})));
}

// Podman 4's rootless network (libpod/networking_slirp4netns.go): the namespace by path.
TEST(PortProxyTest, Slirp4netnsByPathAsPodmanStartsIt) {
  auto t = ParseProxyCmdline(Cmdline(
      {"/usr/bin/slirp4netns", "--disable-host-loopback", "--mtu=65520", "--enable-sandbox",
       "--enable-seccomp", "--enable-ipv6", "-c", "-e", "3", "-r", "4", "--netns-type=path",
       "/run/user/1000/netns/netns-3c7ac2b5-7e77-4b5a-0b7f-f4e2f5b5a3c1", "tap0"}));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->netns_path, "/run/user/1000/netns/netns-3c7ac2b5-7e77-4b5a-0b7f-f4e2f5b5a3c1");
  EXPECT_EQ(t->pid, 0u);
}

// slirp4netns(1)'s own example: the namespace by PID; option values attached or not.
TEST(PortProxyTest, Slirp4netnsByPid) {
  auto t = ParseProxyCmdline(
      Cmdline({"slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", "12345",
               "tap0"}));
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, (ProxyTarget{"", 12345, "", "", ""}));
  // -m 1500 and --api-socket PATH take the next argument: it is not the PID.
  t = ParseProxyCmdline(Cmdline({"slirp4netns", "-m", "1500", "--api-socket", "/tmp/s.sock",
                                 "-c", "777", "tap0"}));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->pid, 777u);
  EXPECT_FALSE(ParseProxyCmdline(Cmdline({"slirp4netns", "--configure", "tap0"})));
  EXPECT_FALSE(ParseProxyCmdline(Cmdline({"slirp4netns", "-m", "1500"})));
}

// conmon as rootful podman 4.3 started it on this machine (`podman run -d --name pw-try -p
// 127.0.0.1:38159:80 ...`; /proc/PID/cmdline, its tail cut).
TEST(PortProxyTest, ConmonNamesItsContainer) {
  const std::string id = "f59303673e7c29316fff14eff23d72d02c86c2812cfc470300560981011b02da";
  const std::string userdata = "/var/lib/containers/storage/overlay-containers/" + id + "/userdata";
  const std::string pidfile = "/run/containers/storage/overlay-containers/" + id + "/userdata/pidfile";
  auto t = ParseProxyCmdline(Cmdline({"/usr/bin/conmon", "--api-version", "1", "-c", id, "-u", id,
                                      "-r", "/usr/bin/runc", "-b", userdata, "-p", pidfile, "-n",
                                      "pw-try", "--exit-dir", "/run/libpod/exits", "--full-attach"}));
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, (ProxyTarget{"", 0, "", id, pidfile}));
  t = ParseProxyCmdline(Cmdline({"conmon", "--cid=" + id, "--container-pidfile", "/p"}));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->container_id, id);
  EXPECT_EQ(t->pid_file, "/p");
  EXPECT_FALSE(ParseProxyCmdline(Cmdline({"conmon", "--api-version", "1"})));
}

TEST(PortProxyTest, OtherProgramsHaveNoTarget) {
  EXPECT_FALSE(ParseProxyCmdline(""));
  EXPECT_FALSE(ParseProxyCmdline(Cmdline({"nginx", "-container-ip", "10.0.0.1"})));
  // pasta's target is found from the namespace file it holds, not from its argv.
  EXPECT_FALSE(ParseProxyCmdline(Cmdline({"pasta", "--config-net", "-t", "8080:80", "--netns",
                                          "/run/user/1000/netns/netns-1"})));
}

// RTM_NEWADDR messages in the kernel's layout: nlmsghdr, ifaddrmsg, attributes.
class AddrDatagram {
 public:
  void Put(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  void Header(uint32_t len, uint16_t type) {
    uint16_t flags = 2;  // NLM_F_MULTI
    uint32_t seq = 1, pid = 0;
    Put(&len, 4);
    Put(&type, 2);
    Put(&flags, 2);
    Put(&seq, 4);
    Put(&pid, 4);
  }
  void Attr(uint16_t type, const std::vector<uint8_t>& value) {
    uint16_t len = static_cast<uint16_t>(4 + value.size());
    Put(&len, 2);
    Put(&type, 2);
    Put(value.data(), value.size());
    while (bytes.size() % 4 != 0) bytes.push_back(0);
  }
  // family, and (type, address) attributes.
  void Address(uint8_t family, const std::vector<std::pair<uint16_t, std::vector<uint8_t>>>& attrs) {
    uint32_t len = 16 + 8;
    for (const auto& [type, v] : attrs) len += static_cast<uint32_t>((4 + v.size() + 3) & ~size_t{3});
    Header(len, 20);  // RTM_NEWADDR
    uint8_t msg[8] = {family, 24, 0, 0, 2, 0, 0, 0};
    Put(msg, 8);
    for (const auto& [type, v] : attrs) Attr(type, v);
  }
  void Done() {
    Header(20, 3);
    uint32_t zero = 0;
    Put(&zero, 4);
  }
  std::vector<uint8_t> bytes;
};

TEST(AddrDumpTest, DecodesLocalAddressesOfBothFamilies) {
  AddrDatagram d;
  d.Address(2, {{1, {172, 17, 0, 2}}, {2, {172, 17, 0, 2}}});
  // A point-to-point link: IFA_ADDRESS is the peer, IFA_LOCAL the interface's own.
  d.Address(2, {{1, {10, 0, 2, 2}}, {2, {10, 0, 2, 100}}});
  std::vector<uint8_t> v6(16, 0);
  v6[0] = 0xfd;
  v6[15] = 2;
  d.Address(10, {{1, v6}});
  d.Done();
  auto batch = DecodeAddrDump(d.bytes);
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_TRUE(batch->done);
  EXPECT_EQ(batch->addresses, (std::vector<std::string>{"172.17.0.2", "10.0.2.100", "fd00::2"}));
}

TEST(AddrDumpTest, RequestAsksForADumpOfEveryAddress) {
  std::vector<uint8_t> req = BuildAddrRequest(7);
  ASSERT_EQ(req.size(), 24u);
  uint16_t type = 0, flags = 0;
  uint32_t seq = 0;
  std::memcpy(&type, req.data() + 4, 2);
  std::memcpy(&flags, req.data() + 6, 2);
  std::memcpy(&seq, req.data() + 8, 4);
  EXPECT_EQ(type, 22);        // RTM_GETADDR
  EXPECT_EQ(flags, 0x301);    // NLM_F_REQUEST | NLM_F_DUMP
  EXPECT_EQ(seq, 7u);
  EXPECT_EQ(req[16], 0);      // AF_UNSPEC: both families
}

TEST(AddrDumpTest, RejectsBadHeadersTruncatedRecordsAndErrors) {
  AddrDatagram truncated;
  truncated.Header(16 + 4, 20);  // ifaddrmsg cut to 4 bytes
  uint32_t zero = 0;
  truncated.Put(&zero, 4);
  auto r = DecodeAddrDump(truncated.bytes);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ifaddrmsg truncated"), std::string::npos);

  AddrDatagram overrun;
  overrun.Header(4096, 20);  // a length past the datagram
  EXPECT_FALSE(DecodeAddrDump(overrun.bytes));

  AddrDatagram error;
  error.Header(20, 2);  // NLMSG_ERROR, -EPERM
  int32_t eperm = -1;
  error.Put(&eperm, 4);
  r = DecodeAddrDump(error.bytes);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("error 1"), std::string::npos);

  // An attribute whose length overruns its message is left, not read past.
  AddrDatagram attr;
  attr.Header(16 + 8 + 4, 20);
  uint8_t msg[8] = {2, 24, 0, 0, 1, 0, 0, 0};
  attr.Put(msg, 8);
  uint16_t len = 200, type = 2;
  attr.Put(&len, 2);
  attr.Put(&type, 2);
  r = DecodeAddrDump(attr.bytes);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->addresses.empty());
}

}  // namespace
}  // namespace portwarden
