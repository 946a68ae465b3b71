// Per-collector deadlines: DeadlineRunner on its own, and the sampling loop with a listener
// source that hangs on demand (as a read of a D-state /proc entry would): cycles go on
// without it, mark it failed, and keep the last good findings until it answers again.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>

#include "exporter/collect.h"
#include "exporter/deadline_runner.h"
#include "exporter/logging.h"
#include "exporter/metrics.h"
#include "exporter/sampler.h"
#include "tests/support/poll.h"

namespace portwarden {
namespace {

using testing::PollUntil;

using namespace std::chrono_literals;

constexpr auto kDeadline = 20s;

// A gate tasks block on until it is opened.
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  int waiting() {
    std::lock_guard lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int waiting_ = 0;
};

TEST(DeadlineRunner, ReturnsWhatFinishedInTime) {
  DeadlineRunner runner;
  EXPECT_EQ(RunWithDeadline<int>(runner, [] { return 42; }, 10s), 42);
  EXPECT_EQ(RunWithDeadline<int>(runner, [] { return 7; }, 10s), 7);
}

TEST(DeadlineRunner, OverrunIsDroppedAndBlocksTheNextUntilItReturns) {
  auto gate = std::make_shared<Gate>();
  gate->Close();
  DeadlineRunner runner;
  EXPECT_EQ(RunWithDeadline<int>(runner, [gate] { gate->Wait(); return 1; }, 100ms),
            std::nullopt);
  // Still hung: the next task is not started at all.
  std::atomic<bool> second_ran = false;
  EXPECT_FALSE(runner.Run([&] { second_ran = true; }, 100ms));
  EXPECT_EQ(gate->waiting(), 1);
  gate->Open();
  // The hung task returns; the next one runs and its own result comes back.
  EXPECT_EQ(RunWithDeadline<int>(runner, [] { return 3; }, 10s), 3);
  EXPECT_FALSE(second_ran);
}

TEST(DeadlineRunner, DestroyedWhileHungDoesNotWait) {
  auto gate = std::make_shared<Gate>();
  gate->Close();
  auto finished = std::make_shared<std::promise<void>>();
  auto done = finished->get_future();
  {
    DeadlineRunner runner;
    EXPECT_FALSE(runner.Run([gate, finished] { gate->Wait(); finished->set_value(); }, 50ms));
  }  // returns although the task still blocks
  EXPECT_EQ(done.wait_for(0s), std::future_status::timeout);
  gate->Open();
  EXPECT_EQ(done.wait_for(20s), std::future_status::ready);  // the task ran to its end
}

// One listener, 127.0.0.1:8080 held by apache; Sample blocks while the gate is closed.
class GatedSource : public ListenerSource {
 public:
  explicit GatedSource(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  Expected<OwnedSockets> Sample() override {
    gate_->Wait();
    OwnedSocket s;
    s.socket.proto = Proto::kTcp;
    s.socket.family = Family::kIpv4;
    s.socket.address = "127.0.0.1";
    s.socket.port = 8080;
    s.socket.pid = 100;
    s.kind = OwnerKind::kProcess;
    Process p;
    p.pid = 100;
    p.name = "apache2";
    s.holders.push_back(std::make_shared<const Process>(p));
    return std::make_shared<const std::vector<OwnedSocket>>(std::vector<OwnedSocket>{s});
  }
  std::string Backend() const override { return "gated"; }

 private:
  std::shared_ptr<Gate> gate_;
};

TEST(Sampler, HungCollectorIsMarkedFailedAndFindingsStayAsTheyWere) {
  auto config = ParseConfig(R"(
collect: {interval: 20ms, timeout: 200ms}
expect:
  - name: web
    listen: 127.0.0.1:8080/tcp
    owner: {process: nginx}
)", "t.yml");
  ASSERT_TRUE(config) << config.error().message;
  auto gate = std::make_shared<Gate>();
  Sampler sampler(std::make_unique<Collectors>(std::make_unique<GatedSource>(gate), nullptr),
                  *config, ComponentLogger("sampler"));
  sampler.Start();
  auto wrong_owner_active = [](const Snapshot& s) {
    return s.policy.active.size() == 1 &&
           s.policy.active.begin()->second.finding.kind == policy::FindingKind::kWrongOwner;
  };
  ASSERT_TRUE(PollUntil([&] {
    auto s = sampler.Latest();
    return s && s->collectors.at(0).success && wrong_owner_active(*s);
  }, kDeadline));

  gate->Close();
  // Failed cycles keep coming, each within the deadline; more than the hold-down (3), which
  // would have resolved the finding had the empty listener list been judged.
  std::shared_ptr<const Snapshot> seen;
  int failed = 0;
  ASSERT_TRUE(PollUntil([&] {
    auto s = sampler.Latest();
    if (s != seen && !s->collectors.at(0).success) {
      ++failed;
      EXPECT_NE(s->collectors.at(0).error.find("did not finish within collect.timeout (200 ms)"),
                std::string::npos)
          << s->collectors.at(0).error;
      EXPECT_TRUE(s->listeners->listeners.empty());
      EXPECT_EQ(s->listener_backend, "gated");
      EXPECT_TRUE(wrong_owner_active(*s));
    }
    seen = s;
    return failed >= 5;
  }, kDeadline));
  EXPECT_EQ(gate->waiting(), 1);  // one hung call, not one per cycle

  gate->Open();
  ASSERT_TRUE(PollUntil([&] {
    auto s = sampler.Latest();
    return s->collectors.at(0).success && s->listeners->listeners.size() == 1;
  }, kDeadline));
  auto s = sampler.Latest();
  EXPECT_TRUE(wrong_owner_active(*s));
  for (const auto& e : *s->policy.events) EXPECT_NE(e->type, "finding_resolved");
  sampler.Stop();
}

// Snapshots with the same listeners share the listener families of /metrics: a quiet cycle
// does not render thousands of series again.
TEST(Sampler, UnchangedListenersShareTheirMetricsText) {
  auto config = ParseConfig("collect: {interval: 20ms}\n", "t.yml");
  ASSERT_TRUE(config) << config.error().message;
  auto gate = std::make_shared<Gate>();
  Sampler sampler(std::make_unique<Collectors>(std::make_unique<GatedSource>(gate), nullptr),
                  *config, ComponentLogger("sampler"));
  sampler.Start();
  std::shared_ptr<const Snapshot> first, second;
  ASSERT_TRUE(PollUntil([&] { return (first = sampler.Latest()) != nullptr; }, kDeadline));
  ASSERT_TRUE(PollUntil([&] { return (second = sampler.Latest()) != first; }, kDeadline));
  sampler.Stop();
  ASSERT_NE(first->listener_body, nullptr);
  EXPECT_EQ(second->listener_body, first->listener_body);
  const std::string& text = second->listener_body->text();
  EXPECT_EQ(text, ListenerMetricsText(*second->listeners));
  EXPECT_NE(text.find("portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"127.0.0.1\","
                      "port=\"8080\",pid=\"100\",kind=\"process\",process=\"apache2\""),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace portwarden
