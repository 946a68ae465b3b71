#include "collectors/listeners/netns.h"

#include <gtest/gtest.h>

#include "collectors/listeners/attribution.h"

namespace portwarden {
namespace {

TEST(ParseNetnsLink, ReadsTheInode) {
  EXPECT_EQ(ParseNetnsLink("net:[4026531833]"), 4026531833u);
  EXPECT_EQ(ParseNetnsLink("net:[1]"), 1u);
}

TEST(ParseNetnsLink, RejectsOtherLinks) {
  EXPECT_EQ(ParseNetnsLink("socket:[4026531833]"), std::nullopt);
  EXPECT_EQ(ParseNetnsLink("net:[]"), std::nullopt);
  EXPECT_EQ(ParseNetnsLink("net:[12x]"), std::nullopt);
  EXPECT_EQ(ParseNetnsLink("net:[12"), std::nullopt);
  EXPECT_EQ(ParseNetnsLink("net:[99999999999999999999999]"), std::nullopt);
  EXPECT_EQ(ParseNetnsLink(""), std::nullopt);
}

TEST(NetnsTable, ANamespaceLivesWhileAProcessIsInIt) {
  NetnsTable t;
  t.SetHost(100);
  t.Set(1, 100);
  t.Set(50, 200);
  t.Set(40, 200);
  auto all = t.Namespaces();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].inode, 100u);
  EXPECT_EQ(all[0].name, "host");
  EXPECT_EQ(all[0].pid, 1u);
  EXPECT_EQ(all[1].inode, 200u);
  EXPECT_EQ(all[1].name, "");
  EXPECT_EQ(all[1].pid, 40u);  // the lowest PID in it
  t.Drop(40);
  EXPECT_EQ(t.Namespaces()[1].pid, 50u);
  t.Drop(50);
  ASSERT_EQ(t.Namespaces().size(), 1u);
  EXPECT_EQ(t.Namespaces()[0].inode, 100u);
}

TEST(NetnsTable, AProcessThatMovesLeavesItsOldNamespace) {
  NetnsTable t;
  t.Set(7, 200);
  t.Set(7, 300);  // unshare(CLONE_NEWNET) then exec
  auto all = t.Namespaces();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].inode, 300u);
  EXPECT_TRUE(t.Knows(7));
  EXPECT_FALSE(t.Knows(8));
}

TEST(NetnsTable, SyncForgetsExitedProcesses) {
  NetnsTable t;
  t.Set(3, 200);
  t.Set(5, 300);
  t.Set(9, 300);
  t.Sync({1, 5});
  EXPECT_FALSE(t.Knows(3));
  EXPECT_FALSE(t.Knows(9));
  auto all = t.Namespaces();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].inode, 300u);
  EXPECT_EQ(all[0].pid, 5u);
}

TEST(NetnsTable, BindMountsNameNamespacesAndKeepThemWithoutProcesses) {
  NetnsTable t;
  t.SetHost(100);
  t.Set(1, 100);
  t.Set(60, 200);
  t.SetBindMounts({{"zeta", 200}, {"blue", 200}, {"empty", 300}});
  auto all = t.Namespaces();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].name, "blue");  // the first name of two, in name order
  EXPECT_EQ(all[1].bind, "blue");
  EXPECT_EQ(all[1].pid, 60u);
  EXPECT_EQ(all[2].inode, 300u);
  EXPECT_EQ(all[2].name, "empty");
  EXPECT_EQ(all[2].pid, 0u);
  EXPECT_EQ(t.Names(), (std::map<uint64_t, std::string>{{100, "host"}, {200, "blue"}, {300, "empty"}}));
  t.SetBindMounts({});  // ip netns delete
  ASSERT_EQ(t.Namespaces().size(), 2u);
  EXPECT_EQ(t.Namespaces()[1].name, "");
}

// The same address:port in two namespaces is two listeners, each with its namespace.
TEST(BuildListeners, KeepsNamespacesApart) {
  auto proc = [](uint32_t pid, const char* name) {
    auto p = std::make_shared<Process>();
    p->pid = pid;
    p->name = name;
    return ProcessRef(p);
  };
  std::vector<OwnedSocket> sockets(2);
  for (auto& s : sockets) {
    s.socket.address = "0.0.0.0";
    s.socket.port = 80;
  }
  sockets[0].socket.netns = 200;
  sockets[0].holders = {proc(10, "nginx")};
  sockets[1].socket.netns = 100;
  sockets[1].netns_name = "host";
  sockets[1].holders = {proc(10, "nginx")};  // same PID: only the namespace differs
  ListenerSet set = BuildListeners(sockets, {});
  ASSERT_EQ(set.listeners.size(), 2u);
  EXPECT_EQ(set.listeners[0].netns, 100u);
  EXPECT_EQ(set.listeners[0].netns_name, "host");
  EXPECT_EQ(set.listeners[1].netns, 200u);
  EXPECT_EQ(set.listeners[1].netns_name, "");
  EXPECT_EQ(set.tcp, 2u);
}

ProcessRef Proc(uint32_t pid, uint32_t ppid, const char* name,
               std::vector<std::string> listen_fds = {}) {
  auto p = std::make_shared<Process>();
  p->pid = pid;
  p->ppid = ppid;
  p->name = name;
  p->listen_fds = std::move(listen_fds);
  return p;
}

OwnedSocket Held(std::vector<ProcessRef> holders, std::vector<int32_t> fds) {
  OwnedSocket s;
  s.socket.address = "0.0.0.0";
  s.socket.port = 22;
  s.holders = std::move(holders);
  s.fds = std::move(fds);
  return s;
}

// systemd holds sshd.socket at fd 40 and handed it to sshd as fd 3.
TEST(PickHolders, ActivatedServiceServesAndPid1Supervises) {
  OwnedSocket s = Held({Proc(1, 0, "systemd"), Proc(900, 1, "sshd", {"sshd.socket"})}, {40, 3});
  HolderRoles roles = PickHolders(s);
  EXPECT_EQ(roles.main, 1u);
  EXPECT_EQ(roles.supervisor, 0u);
  ListenerSet set = BuildListeners({s}, {});
  ASSERT_EQ(set.listeners.size(), 1u);
  const Listener& l = set.listeners[0];
  EXPECT_EQ(l.owner.main().name, "sshd");
  ASSERT_NE(l.owner.supervisor, nullptr);
  EXPECT_EQ(l.owner.supervisor->name, "systemd");
  EXPECT_EQ(l.owner.socket_unit, "sshd.socket");
}

// A chain: a launcher handed it to a shell, which handed it on to the server.
TEST(PickHolders, InnermostActivatedHolderServes) {
  OwnedSocket s = Held({Proc(50, 1, "sh", {"web.socket"}), Proc(60, 50, "server", {"web.socket"})},
                       {3, 3});
  HolderRoles roles = PickHolders(s);
  EXPECT_EQ(roles.main, 1u);
  EXPECT_EQ(roles.supervisor, 0u);
}

// Its names are for other fds: fd 7 is not among the LISTEN_FDS 3 and 4.
TEST(PickHolders, AnActivatedProcessHoldingAnotherFdIsNotServingIt) {
  OwnedSocket s = Held({Proc(1, 0, "systemd"), Proc(900, 1, "cupsd", {"a.socket", "b.socket"})},
                       {40, 7});
  HolderRoles roles = PickHolders(s);
  EXPECT_EQ(roles.main, 0u);
  EXPECT_EQ(roles.supervisor, HolderRoles{}.supervisor);
  EXPECT_EQ(BuildListeners({s}, {}).listeners[0].owner.socket_unit, "");
  s.fds = {40, 4};
  EXPECT_EQ(BuildListeners({s}, {}).listeners[0].owner.socket_unit, "b.socket");
}

// Workers inherit LISTEN_PID from their master, which does not name them: master serves.
TEST(PickHolders, WithoutActivationTheRootHolderServesAlone) {
  OwnedSocket s = Held({Proc(813, 812, "nginx"), Proc(812, 1, "nginx")}, {6, 6});
  HolderRoles roles = PickHolders(s);
  EXPECT_EQ(roles.main, 1u);
  EXPECT_EQ(roles.supervisor, HolderRoles{}.supervisor);
  EXPECT_EQ(BuildListeners({s}, {}).listeners[0].owner.supervisor, nullptr);
}

}  // namespace
}  // namespace portwarden
