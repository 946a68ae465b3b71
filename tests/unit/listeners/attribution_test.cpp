#include "collectors/listeners/attribution.h"

#include <gtest/gtest.h>

namespace portwarden {
namespace {

ProcessRef Proc(uint32_t pid, uint32_t ppid, const char* name) {
  Process p;
  p.pid = pid;
  p.ppid = ppid;
  p.name = name;
  return std::make_shared<const Process>(p);
}

OwnedSocket Sock(Proto proto, const char* addr, uint16_t port, std::vector<ProcessRef> holders) {
  OwnedSocket s;
  s.socket.proto = proto;
  s.socket.address = addr;
  s.socket.port = port;
  s.holders = std::move(holders);
  return s;
}

TEST(MainHolderIndex, ParentThatIsNotAHolderWins) {
  std::vector<ProcessRef> h = {Proc(101, 100, "nginx"), Proc(100, 1, "nginx"), Proc(102, 100, "nginx")};
  EXPECT_EQ(MainHolderIndex(h), 1u);
  // Two unrelated holders: the lower PID.
  std::vector<ProcessRef> u = {Proc(300, 1, "b"), Proc(200, 1, "a")};
  EXPECT_EQ(MainHolderIndex(u), 1u);
}

TEST(BuildListeners, ReuseportGroupIsOneListener) {
  ProcessRef master = Proc(100, 1, "nginx");
  std::vector<OwnedSocket> socks = {
      Sock(Proto::kTcp, "0.0.0.0", 80, {master, Proc(101, 100, "nginx")}),
      Sock(Proto::kTcp, "0.0.0.0", 80, {master, Proc(102, 100, "nginx")}),
      Sock(Proto::kTcp, "0.0.0.0", 443, {master}),
  };
  auto set = BuildListeners(socks, {});
  ASSERT_EQ(set.listeners.size(), 2u);
  const Listener& l = set.listeners[0];
  EXPECT_EQ(l.port, 80);
  EXPECT_EQ(l.sockets, 2);
  EXPECT_EQ(l.owner.kind, OwnerKind::kProcess);
  EXPECT_EQ(l.owner.main().pid, 100u);
  ASSERT_EQ(l.owner.holders.size(), 3u);
  EXPECT_EQ(l.owner.holders[0]->pid, 100u);
  EXPECT_EQ(set.tcp, 2u);
  EXPECT_EQ(set.udp, 0u);
}

TEST(BuildListeners, DifferentOwnersStaySeparateAndUnknownIsCounted) {
  std::vector<OwnedSocket> socks = {
      Sock(Proto::kTcp, "0.0.0.0", 80, {Proc(100, 1, "nginx")}),
      Sock(Proto::kTcp, "0.0.0.0", 80, {Proc(200, 1, "apache2")}),
      Sock(Proto::kUdp, "0.0.0.0", 53, {}),
      Sock(Proto::kUdp, "0.0.0.0", 53, {}),
  };
  auto set = BuildListeners(socks, {});
  ASSERT_EQ(set.listeners.size(), 3u);
  EXPECT_EQ(set.listeners[0].port, 53);
  EXPECT_EQ(set.listeners[0].owner.kind, OwnerKind::kUnknown);
  EXPECT_EQ(set.listeners[0].sockets, 2);
  EXPECT_EQ(set.unattributed_udp, 1u);
  EXPECT_EQ(set.unattributed_tcp, 0u);
  EXPECT_EQ(set.listeners[1].owner.main().name, "nginx");
  EXPECT_EQ(set.listeners[2].owner.main().name, "apache2");
}

TEST(BuildListeners, FiltersAndCap) {
  std::vector<OwnedSocket> socks;
  for (uint16_t port = 1000; port < 1010; ++port) {
    socks.push_back(Sock(Proto::kTcp, "127.0.0.1", port, {Proc(1, 0, "x")}));
  }
  ListenerFilter filter;
  filter.include = {{1000, 1007}};
  filter.exclude = {{1001, 1001}};
  filter.max_series = 3;
  auto set = BuildListeners(socks, filter);
  EXPECT_EQ(set.tcp, 7u);  // 1000-1007 minus 1001
  EXPECT_EQ(set.dropped, 4u);
  ASSERT_EQ(set.listeners.size(), 3u);
  EXPECT_EQ(set.listeners[0].port, 1000);
  EXPECT_EQ(set.listeners[1].port, 1002);
  EXPECT_EQ(set.listeners[2].port, 1003);
}

TEST(ListenerBuilder, RebuildsOnlyForANewSampleOrFilter) {
  auto sample = std::make_shared<const std::vector<OwnedSocket>>(std::vector<OwnedSocket>{
      Sock(Proto::kTcp, "127.0.0.1", 80, {Proc(1, 0, "x")}),
      Sock(Proto::kTcp, "127.0.0.1", 443, {Proc(1, 0, "x")})});
  ListenerBuilder builder;
  auto first = builder.Build(sample, {});
  ASSERT_EQ(first->listeners.size(), 2u);
  EXPECT_EQ(builder.Build(sample, {}), first) << "the same sample again";

  ListenerFilter only_80;
  only_80.include = {{80, 80}};
  auto filtered = builder.Build(sample, only_80);
  ASSERT_EQ(filtered->listeners.size(), 1u);
  EXPECT_EQ(filtered->listeners[0].port, 80);

  // An equal sample under a new pointer is built again (the source said it may differ).
  auto copy = std::make_shared<const std::vector<OwnedSocket>>(*sample);
  auto rebuilt = builder.Build(copy, only_80);
  EXPECT_NE(rebuilt, filtered);
  EXPECT_EQ(rebuilt->listeners, filtered->listeners);
}

}  // namespace
}  // namespace portwarden
