// .socket unit files (systemd.socket(5), systemd.syntax(7)) and the attribution of a
// socket a service manager holds to the unit listing its address. The unit texts follow
// Debian 12's ssh.socket and cups.socket and systemd's documented forms.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "collectors/listeners/attribution.h"
#include "collectors/listeners/socket_units.h"

namespace portwarden {
namespace {

SocketUnit Parse(const std::string& name, std::vector<std::string> texts) {
  return ParseSocketUnit(name, texts);
}

TEST(SocketUnitParse, DebianSshSocketPortAloneActivatesTemplatePerConnection) {
  SocketUnit u = Parse("ssh.socket", {R"([Unit]
Description=OpenBSD Secure Shell server socket
Before=sockets.target
ConditionPathExists=!/etc/ssh/sshd_not_to_be_run

[Socket]
ListenStream=22
Accept=yes

[Install]
WantedBy=sockets.target
)"});
  EXPECT_EQ(u.name, "ssh.socket");
  EXPECT_TRUE(u.accept);
  EXPECT_EQ(u.service, "ssh@.service");
  ASSERT_EQ(u.listens.size(), 1u);
  EXPECT_EQ(u.listens[0], (SocketUnitListen{Proto::kTcp, "", 22}));
}

TEST(SocketUnitParse, AddressesAreCanonicalAndNonIpListensAreLeftOut) {
  SocketUnit u = Parse("cups.socket", {R"([Socket]
ListenStream=/run/cups/cups.sock
ListenStream=127.0.0.1:631
ListenStream=[0:0::1]:631
ListenDatagram=0.0.0.0:5353
ListenStream=@abstract
ListenStream=vsock:2:1234
ListenSequentialPacket=/run/seq
ListenNetlink=kobject-uevent 1
ListenFIFO=/run/fifo
)"});
  EXPECT_FALSE(u.accept);
  EXPECT_EQ(u.service, "cups.service");
  EXPECT_EQ(u.listens, (std::vector<SocketUnitListen>{{Proto::kTcp, "127.0.0.1", 631},
                                                      {Proto::kTcp, "::1", 631},
                                                      {Proto::kUdp, "0.0.0.0", 5353}}));
}

TEST(SocketUnitParse, ServiceEqualsNamesTheServiceWithoutAccept) {
  SocketUnit u = Parse("web.socket", {"[Socket]\nListenStream=8080\nService=nginx.service\n"});
  EXPECT_EQ(u.service, "nginx.service");
  // systemd refuses Service= with Accept=yes: the template is what runs.
  SocketUnit a = Parse("web.socket", {"[Socket]\nListenStream=8080\nAccept=true\n"
                                      "Service=nginx.service\n"});
  EXPECT_EQ(a.service, "web@.service");
}

TEST(SocketUnitParse, DropInsApplyInOrderAndAnEmptyAssignmentResets) {
  SocketUnit u = Parse("ssh.socket", {"[Socket]\nListenStream=22\nAccept=yes\n",
                                      "[Socket]\nListenStream=\nListenStream=10.0.0.5:2222\n",
                                      "[Socket]\nAccept=no\n"});
  EXPECT_FALSE(u.accept);
  EXPECT_EQ(u.service, "ssh.service");
  EXPECT_EQ(u.listens, (std::vector<SocketUnitListen>{{Proto::kTcp, "10.0.0.5", 2222}}));
}

TEST(SocketUnitParse, CommentsSectionsAndContinuationsFollowUnitSyntax) {
  SocketUnit u = Parse("x.socket", {R"([Service]
ListenStream=1111
# ListenStream=2222
; ListenStream=3333
[Socket]
  ListenStream = 127.0.0.1:4444
ListenDatagram=\
127.0.0.2:5555
[Install]
ListenStream=6666
)"});
  EXPECT_EQ(u.listens, (std::vector<SocketUnitListen>{{Proto::kTcp, "127.0.0.1", 4444},
                                                      {Proto::kUdp, "127.0.0.2", 5555}}));
}

TEST(SocketUnitParse, ValuesSystemdWouldRejectOrCannotKnowAreLeftOut) {
  SocketUnit u = Parse("y.socket", {R"([Socket]
ListenStream=0
ListenStream=65536
ListenStream=::1:80
ListenStream=[127.0.0.1]:80
ListenStream=localhost:80
ListenStream=127.0.0.1:
ListenStream=%i
ListenStream=127.0.0.%i:80
ListenStream=[fe80::1%%eth0]:80
Accept=maybe
)"});
  // Only the zone's escaped '%' is a literal; the zone is not part of the address.
  EXPECT_EQ(u.listens, (std::vector<SocketUnitListen>{{Proto::kTcp, "fe80::1", 80}}));
  EXPECT_FALSE(u.accept);
}

SocketEntry Socket(Proto proto, const std::string& address, uint16_t port) {
  SocketEntry s;
  s.proto = proto;
  s.family = address.find(':') != std::string::npos ? Family::kIpv6 : Family::kIpv4;
  s.address = address;
  s.port = port;
  return s;
}

SocketUnitTable Table() {
  SocketUnitTable t;
  t.units.push_back(Parse("a.socket", {"[Socket]\nListenStream=127.0.0.1:80\n"}));
  t.units.push_back(Parse("b.socket", {"[Socket]\nListenStream=80\nListenDatagram=53\n"}));
  t.units.push_back(Parse("c.socket", {"[Socket]\nListenStream=80\n"}));
  return t;
}

TEST(SocketUnitMatch, SameAddressOrPortAloneOnAWildcard) {
  SocketUnitTable t = Table();
  auto name = [&](const SocketEntry& s) {
    const SocketUnit* u = MatchSocketUnit(t, s);
    return u ? u->name : std::string("-");
  };
  EXPECT_EQ(name(Socket(Proto::kTcp, "127.0.0.1", 80)), "a.socket");
  EXPECT_EQ(name(Socket(Proto::kTcp, "::", 80)), "b.socket");  // the first by name
  EXPECT_EQ(name(Socket(Proto::kTcp, "0.0.0.0", 80)), "b.socket");
  EXPECT_EQ(name(Socket(Proto::kUdp, "::", 53)), "b.socket");
  EXPECT_EQ(name(Socket(Proto::kTcp, "::", 53)), "-");
  EXPECT_EQ(name(Socket(Proto::kTcp, "10.0.0.1", 80)), "-");
  EXPECT_EQ(name(Socket(Proto::kTcp, "127.0.0.1", 81)), "-");
}

ProcessRef Proc(uint32_t pid, uint32_t ppid, const std::string& name,
                std::shared_ptr<const SocketUnitTable> units = nullptr) {
  Process p;
  p.pid = pid;
  p.ppid = ppid;
  p.name = name;
  p.socket_units = std::move(units);
  return std::make_shared<const Process>(std::move(p));
}

TEST(SocketUnitAttribution, ManagerHeldSocketNamesItsUnitAndTheServiceItActivates) {
  auto units = std::make_shared<const SocketUnitTable>(Table());
  OwnedSocket owned;
  owned.socket = Socket(Proto::kTcp, "127.0.0.1", 80);
  owned.holders = {Proc(1, 0, "systemd", units)};
  owned.fds = {42};
  Listener l = BuildListeners({owned}, {}).listeners.at(0);
  EXPECT_EQ(l.owner.main().name, "systemd");
  EXPECT_EQ(l.owner.socket_unit, "a.socket");
  EXPECT_EQ(l.owner.socket_service, "a.service");
  EXPECT_EQ(l.owner.service(), "a.service");
  EXPECT_EQ(l.owner.supervisor, nullptr);

  // No unit lists the address: the manager stays the owner, with no unit.
  owned.socket.port = 8080;
  Listener other = BuildListeners({owned}, {}).listeners.at(0);
  EXPECT_EQ(other.owner.socket_unit, "");
  EXPECT_EQ(other.owner.service(), "");
}

TEST(SocketUnitAttribution, AHandedOverSocketKeepsTheServingProcessAndItsFdName) {
  auto units = std::make_shared<const SocketUnitTable>(Table());
  Process served;
  served.pid = 700;
  served.ppid = 1;
  served.name = "nginx";
  served.service = "nginx.service";
  served.listen_fds = {"web"};
  OwnedSocket owned;
  owned.socket = Socket(Proto::kTcp, "127.0.0.1", 80);
  owned.holders = {Proc(1, 0, "systemd", units), std::make_shared<const Process>(served)};
  owned.fds = {42, 3};
  Listener l = BuildListeners({owned}, {}).listeners.at(0);
  EXPECT_EQ(l.owner.main().name, "nginx");
  EXPECT_EQ(l.owner.socket_unit, "web");
  EXPECT_EQ(l.owner.socket_service, "");
  EXPECT_EQ(l.owner.service(), "nginx.service");
  ASSERT_NE(l.owner.supervisor, nullptr);
  EXPECT_EQ(l.owner.supervisor->pid, 1u);
}

}  // namespace
}  // namespace portwarden
