#include "exporter/monitor.h"

#include <gtest/gtest.h>

namespace portwarden {
namespace {

Listener Tcp(const char* address, uint16_t port, uint32_t pid, const char* name) {
  Listener l;
  l.address = address;
  l.port = port;
  l.owner.kind = OwnerKind::kProcess;
  l.owner.holders = {std::make_shared<const Process>(Process{pid, 0, name, "", "", "", "", "", "", {}})};
  return l;
}

Snapshot At(double t, std::vector<Listener> listeners) {
  Snapshot s;
  s.timestamp = t;
  s.listeners = std::make_shared<const ListenerSet>(ListenerSet{std::move(listeners)});
  return s;
}

std::vector<std::string> Types(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type + (e.kind.empty() ? "" : ":" + e.kind));
  return out;
}

TEST(Monitor, FlappingListenerMakesNoEventsWithinHoldDown) {
  Monitor m;
  Listener web = Tcp("0.0.0.0", 80, 10, "nginx");
  EXPECT_TRUE(m.Observe(At(1, {web}), {}).second.empty());  // first cycle: baseline, silent
  // Gone for two cycles, back on the third: no vanished/appeared pair.
  EXPECT_TRUE(m.Observe(At(2, {}), {}).second.empty());
  EXPECT_TRUE(m.Observe(At(3, {}), {}).second.empty());
  EXPECT_TRUE(m.Observe(At(4, {web}), {}).second.empty());
  // Gone for three cycles: one vanished event.
  m.Observe(At(5, {}), {});
  m.Observe(At(6, {}), {});
  auto [state, events] = m.Observe(At(7, {}), {});
  EXPECT_EQ(Types(events), std::vector<std::string>{"listener_vanished"});
  EXPECT_EQ(events[0].time, 7);
  auto appeared = m.Observe(At(8, {web}), {}).second;
  EXPECT_EQ(Types(appeared), std::vector<std::string>{"listener_appeared"});
  EXPECT_EQ(m.Observe(At(9, {web}), {}).first.events->size(), 2u);
}

TEST(Monitor, OwnerChangeIsCountedRaisedOnceAndResolvedAfterHoldDown) {
  Monitor m;
  m.Observe(At(1, {Tcp("127.0.0.1", 8080, 10, "a")}), {});
  auto [state, events] = m.Observe(At(2, {Tcp("127.0.0.1", 8080, 11, "b")}), {});
  EXPECT_EQ(state.owner_changes.at({Proto::kTcp, 8080}), 1u);
  // The old owner's listener vanishes later (hold-down); the new one appeared now.
  EXPECT_EQ(Types(events),
            (std::vector<std::string>{"finding_raised:changed", "listener_appeared"}));
  ASSERT_EQ(state.active.size(), 1u);
  // Stays active (and is not raised again) until absent for 3 cycles; a's listener
  // vanishes after its own 3 absent cycles (t=2,3,4).
  auto [s3, e3] = m.Observe(At(3, {Tcp("127.0.0.1", 8080, 11, "b")}), {});
  EXPECT_EQ(s3.active.size(), 1u);
  EXPECT_TRUE(e3.empty());
  auto [s4, e4] = m.Observe(At(4, {Tcp("127.0.0.1", 8080, 11, "b")}), {});
  EXPECT_EQ(s4.active.size(), 1u);
  EXPECT_EQ(Types(e4), std::vector<std::string>{"listener_vanished"});
  EXPECT_EQ(e4[0].owner, "a (pid 10)");
  auto [last, resolved] = m.Observe(At(5, {Tcp("127.0.0.1", 8080, 11, "b")}), {});
  EXPECT_TRUE(last.active.empty());
  EXPECT_EQ(Types(resolved), std::vector<std::string>{"finding_resolved:changed"});
  EXPECT_EQ(last.owner_changes.at({Proto::kTcp, 8080}), 1u);
}

TEST(Monitor, OwnerChangeCountersAreBounded) {
  Monitor m(2);
  std::vector<Listener> before, after;
  for (uint16_t p = 1; p <= 3; ++p) {
    before.push_back(Tcp("127.0.0.1", p, 10, "a"));
    after.push_back(Tcp("127.0.0.1", p, 11, "b"));
  }
  m.Observe(At(1, before), {});
  auto state = m.Observe(At(2, after), {}).first;
  EXPECT_EQ(state.owner_changes.size(), 2u);
}

TEST(Monitor, HistoryIsBounded) {
  Monitor m;
  m.Observe(At(0, {}), {});
  PolicyState state;
  for (int i = 0; i < 1200; ++i) {
    uint16_t port = static_cast<uint16_t>(1000 + i);
    state = m.Observe(At(i + 1, {Tcp("127.0.0.1", port, 1, "x")}), {}).first;
  }
  EXPECT_EQ(state.events->size(), Monitor::kMaxEvents);
  EXPECT_EQ(state.events->back()->time, 1200);
}

}  // namespace
}  // namespace portwarden

namespace portwarden {
namespace {

// Quiet cycles reuse the last evaluation; a new expectation with the same listeners must
// still be judged at once.
TEST(Monitor, QuietCyclesStillSeeNewExpectations) {
  Monitor m;
  const std::vector<Listener> listeners{Tcp("127.0.0.1", 8080, 10, "apache2")};
  for (double t = 1; t <= 4; ++t) EXPECT_TRUE(m.Observe(At(t, listeners), {}).first.active.empty());
  policy::Expectation web;
  web.name = "web";
  web.listen = {{Proto::kTcp, "127.0.0.1", 8080}};
  web.owner.emplace();
  web.owner->process = "nginx";
  auto [state, events] = m.Observe(At(5, listeners), {web});
  EXPECT_EQ(Types(events), std::vector<std::string>{"finding_raised:wrong_owner"});
  for (double t = 6; t <= 9; ++t) EXPECT_EQ(m.Observe(At(t, listeners), {web}).first.active.size(), 1u);
  // Dropped again: resolved after the hold-down, although the listeners never changed.
  std::vector<std::string> later;
  for (double t = 10; t <= 13; ++t) {
    for (const auto& type : Types(m.Observe(At(t, listeners), {}).second)) later.push_back(type);
  }
  EXPECT_EQ(later, std::vector<std::string>{"finding_resolved:wrong_owner"});
}

BindEvent FailedBind(double t, uint32_t pid, const char* name, uint16_t port) {
  BindEvent e;
  e.time = t;
  e.address = "0.0.0.0";
  e.port = port;
  e.error = 98;
  e.caller = Process{pid, 0, name, "", "", "", "", "", "", {}};
  return e;
}

TEST(Monitor, FailedBindsAreCountedOneEventPerCycleAndResolvedAfterTheQuietPeriod) {
  Monitor m(5000, /*bind_quiet_seconds=*/10);
  const Listener holder = Tcp("0.0.0.0", 80, 700, "apache2");
  // Failures are findings on the ports an expectation lists (any caller).
  policy::Expectation web;
  web.name = "web";
  web.listen = {{Proto::kTcp, "*", 80}};
  web.owner.emplace();
  web.owner->process = "apache2";
  const std::vector<policy::Expectation> expect{web};
  m.Observe(At(1, {holder}), expect);
  Snapshot snap = At(2, {holder});
  snap.bind_events = {FailedBind(2, 812, "nginx", 80), FailedBind(2, 812, "nginx", 80)};
  BindEvent listening = FailedBind(2, 900, "other", 81);
  listening.kind = BindEvent::Kind::kListening;  // wakes the sampler; not a failure
  snap.bind_events.push_back(listening);
  auto [state, events] = m.Observe(snap, expect);
  EXPECT_EQ(Types(events),
            (std::vector<std::string>{"finding_raised:bind_failed", "bind_failed:bind_failed"}));
  EXPECT_EQ(events[1].owner, "apache2 (pid 700)");
  EXPECT_NE(events[1].detail.find("nginx (pid 812) tried at"), std::string::npos);
  const BindFailureSeries series{Proto::kTcp, "0.0.0.0", 80, "nginx", "EADDRINUSE"};
  ASSERT_EQ(state.bind_failures.size(), 1u);
  EXPECT_EQ(state.bind_failures.at(series), 2u);

  // Quiet: the finding stays until the failure is 10 s old, then waits out the hold-down.
  EXPECT_TRUE(m.Observe(At(5, {holder}), expect).second.empty());
  EXPECT_EQ(m.Observe(At(11, {holder}), expect).first.active.size(), 1u);
  m.Observe(At(13, {holder}), expect);
  m.Observe(At(14, {holder}), expect);
  auto [resolved, last] = m.Observe(At(15, {holder}), expect);
  EXPECT_EQ(Types(last), std::vector<std::string>{"finding_resolved:bind_failed"});
  EXPECT_TRUE(resolved.active.empty());
  EXPECT_EQ(resolved.bind_failures.at(series), 2u);  // a counter never goes down
}

TEST(Monitor, BindFailureSeriesAreBounded) {
  Monitor m(/*max_ports=*/2);
  for (uint16_t port = 1; port <= 3; ++port) {
    Snapshot snap = At(port, {});
    snap.bind_events = {FailedBind(port, 812, "nginx", port)};
    m.Observe(snap, {});
  }
  const auto state = m.Observe(At(10, {}), {}).first;
  ASSERT_EQ(state.bind_failures.size(), 2u);  // the least recent one, port 1, went first
  EXPECT_EQ(state.bind_failures.begin()->first.port, 2);
}

}  // namespace
}  // namespace portwarden
