#include "exporter/notifier/notifier_core.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/notifier/findings.h"

namespace portwarden::notifier {
namespace {

using testing::ActiveOf;
using testing::Blocked;
using testing::Conflict;

CoreSettings Settings(std::vector<std::string> targets = {"am", "hook"}) {
  CoreSettings s;
  s.targets = std::move(targets);
  s.context.static_labels = {{"instance", "web01"}};
  s.resend_interval = 60;
  s.backoff_initial = 1;
  s.backoff_max = 8;
  s.max_entries = 100;
  return s;
}

// Delivers everything due to `target` at `now`.
void Drain(NotifierCore& core, const std::string& target, double now) {
  for (auto batch = core.Due(target, now); !batch.empty(); batch = core.Due(target, now)) {
    core.Complete(target, batch, Outcome::kDelivered, now, 0);
  }
}

TEST(RetryDelay, DoublesUpToTheCapWithJitterBelow) {
  EXPECT_DOUBLE_EQ(RetryDelay(1, 1, 60, 0), 1);
  EXPECT_DOUBLE_EQ(RetryDelay(2, 1, 60, 0), 2);
  EXPECT_DOUBLE_EQ(RetryDelay(5, 1, 60, 0), 16);
  EXPECT_DOUBLE_EQ(RetryDelay(7, 1, 60, 0), 60);
  EXPECT_DOUBLE_EQ(RetryDelay(1000, 1, 60, 0), 60);
  EXPECT_DOUBLE_EQ(RetryDelay(7, 1, 60, 0.5), 54);
  EXPECT_DOUBLE_EQ(RetryDelay(7, 1, 60, 0.999999), 48.000012);
  EXPECT_DOUBLE_EQ(RetryDelay(0, 1, 60, 0), 1);
}

TEST(Classify, WhatIsRetried) {
  EXPECT_EQ(Classify(200), Outcome::kDelivered);
  EXPECT_EQ(Classify(204), Outcome::kDelivered);
  for (int s : {0, 408, 429, 500, 502, 503}) EXPECT_EQ(Classify(s), Outcome::kRetry) << s;
  for (int s : {301, 400, 401, 404, 422}) EXPECT_EQ(Classify(s), Outcome::kRejected) << s;
}

TEST(NotifierCore, RaiseAndResolveReachEveryReceiver) {
  NotifierCore core(Settings());
  EXPECT_TRUE(core.Observe(ActiveOf({Blocked(1000)}), 1000));
  EXPECT_EQ(core.QueueLength(), 2u);
  auto batch = core.Due("am", 1000);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].alert.labels.at("kind"), "blocked");
  EXPECT_EQ(batch[0].alert.labels.at("instance"), "web01");
  EXPECT_FALSE(batch[0].alert.Resolved());
  Drain(core, "am", 1000);
  Drain(core, "hook", 1000);
  EXPECT_EQ(core.QueueLength(), 0u);
  EXPECT_EQ(core.Stats().at("am").sent, 1u);

  // Still active: nothing new before the resend interval.
  EXPECT_FALSE(core.Observe(ActiveOf({Blocked(1000)}), 1005));
  EXPECT_EQ(core.QueueLength(), 0u);

  // Gone from the active set (the Monitor waited out its hold-down): resolved at once.
  EXPECT_TRUE(core.Observe({}, 1010));
  batch = core.Due("hook", 1010);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].alert.ends_at, 1010);
  EXPECT_EQ(batch[0].alert.starts_at, 1000);
  EXPECT_TRUE(core.Firing().empty());
}

TEST(NotifierCore, ActiveAlertsAreResentEveryInterval) {
  NotifierCore core(Settings({"am"}));
  core.Observe(ActiveOf({Blocked(1000), Conflict(8080, 1000)}), 1000);
  Drain(core, "am", 1000);
  EXPECT_FALSE(core.Observe(ActiveOf({Blocked(1000), Conflict(8080, 1000)}), 1059));
  EXPECT_TRUE(core.Observe(ActiveOf({Blocked(1000), Conflict(8080, 1000)}), 1060));
  EXPECT_EQ(core.QueueLength(), 2u);
  Drain(core, "am", 1060);
  EXPECT_FALSE(core.Observe(ActiveOf({Blocked(1000), Conflict(8080, 1000)}), 1119));
  EXPECT_TRUE(core.Observe(ActiveOf({Blocked(1000), Conflict(8080, 1000)}), 1120));
  EXPECT_EQ(core.Stats().at("am").sent, 4u);
}

TEST(NotifierCore, ResendsWhileDownDoNotGrowTheQueue) {
  NotifierCore core(Settings({"am"}));
  core.Observe(ActiveOf({Blocked(1000)}), 1000);
  for (double t = 1060; t < 1060 + 60 * 50; t += 60) core.Observe(ActiveOf({Blocked(1000)}), t);
  EXPECT_EQ(core.QueueLength(), 1u);
  EXPECT_EQ(core.Dropped(), 0u);
}

TEST(NotifierCore, FailuresBackOffPerReceiver) {
  NotifierCore core(Settings());
  core.Observe(ActiveOf({Blocked(1000)}), 1000);
  auto batch = core.Due("am", 1000);
  core.Complete("am", batch, Outcome::kRetry, 1000, 0);
  EXPECT_EQ(core.Failures("am"), 1);
  EXPECT_EQ(core.NextAttempt("am"), 1001);
  EXPECT_TRUE(core.Due("am", 1000.5).empty());
  EXPECT_EQ(core.Due("hook", 1000.5).size(), 1u);  // the other receiver is not held up
  core.Complete("am", core.Due("am", 1001), Outcome::kRetry, 1001, 0);
  EXPECT_EQ(core.NextAttempt("am"), 1003);
  double t = 0;
  for (int i = 0; i < 5; ++i) {
    t = core.NextAttempt("am");
    core.Complete("am", core.Due("am", t), Outcome::kRetry, t, 0);
  }
  EXPECT_EQ(core.NextAttempt("am") - t, 8);  // capped at backoff_max
  EXPECT_EQ(core.Stats().at("am").failed, 7u);
  EXPECT_EQ(core.QueueLength("am"), 1u);  // nothing lost
  t = core.NextAttempt("am");
  core.Complete("am", core.Due("am", t), Outcome::kDelivered, t, 0);
  EXPECT_EQ(core.Failures("am"), 0);
  EXPECT_EQ(core.NextAttempt("am"), 0);
  EXPECT_EQ(core.QueueLength("am"), 0u);
}

TEST(NotifierCore, RejectedBatchesAreDroppedAndCounted) {
  NotifierCore core(Settings({"am"}));
  core.Observe(ActiveOf({Blocked(1000), Conflict(1)}), 1000);
  core.Complete("am", core.Due("am", 1000), Outcome::kRejected, 1000, 0);
  EXPECT_EQ(core.QueueLength(), 0u);
  EXPECT_EQ(core.Dropped(), 2u);
  EXPECT_EQ(core.Stats().at("am").failed, 2u);
  EXPECT_EQ(core.Failures("am"), 0);
}

TEST(NotifierCore, OverflowDropsOldestAndCounts) {
  CoreSettings s = Settings({"am"});
  s.max_entries = 3;
  NotifierCore core(s);
  core.Observe(ActiveOf({Conflict(1), Conflict(2), Conflict(3), Conflict(4), Conflict(5)}), 1000);
  EXPECT_EQ(core.QueueLength(), 3u);
  EXPECT_EQ(core.Dropped(), 2u);
  auto batch = core.Due("am", 1000);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].alert.labels.at("port"), "3");  // keys sort by port here: 1, 2 dropped
}

TEST(NotifierCore, FlappingFastTransitionsAllArrive) {
  NotifierCore core(Settings({"am"}));
  core.Observe(ActiveOf({Blocked(1000)}), 1000);
  core.Observe({}, 1010);
  core.Observe(ActiveOf({Blocked(1020)}), 1020);
  std::vector<std::string> seen;
  for (auto batch = core.Due("am", 1030); !batch.empty(); batch = core.Due("am", 1030)) {
    for (const auto& e : batch) seen.push_back(e.alert.Resolved() ? "resolved" : "firing");
    core.Complete("am", batch, Outcome::kDelivered, 1030, 0);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"firing", "resolved", "firing"}));
}

TEST(NotifierCore, StateSurvivesEncodeRestore) {
  NotifierCore core(Settings());
  core.Observe(ActiveOf({Blocked(1000), Conflict(9)}), 1000);
  Drain(core, "hook", 1000);
  const std::string text = core.Encode();

  NotifierCore restarted(Settings());
  auto dropped = restarted.Restore(text);
  ASSERT_TRUE(dropped) << dropped.error().message;
  EXPECT_EQ(*dropped, 0u);
  EXPECT_EQ(restarted.QueueLength("am"), 2u);
  EXPECT_EQ(restarted.QueueLength("hook"), 0u);
  EXPECT_EQ(restarted.Due("am", 1001), core.Due("am", 1001));
  EXPECT_EQ(restarted.Firing(), core.Firing());
  EXPECT_EQ(restarted.Encode(), text);
  // New entries continue the sequence.
  restarted.Observe(ActiveOf({Blocked(1000), Conflict(9), Conflict(10)}), 1002);
  ASSERT_EQ(restarted.Due("hook", 1002).size(), 1u);
  EXPECT_GT(restarted.Due("hook", 1002)[0].seq, core.Due("am", 1001).back().seq);
}

TEST(NotifierCore, RestoredAlertsResolveAfterTheHoldDownUnlessSeenAgain) {
  NotifierCore before(Settings({"am"}));
  before.Observe(ActiveOf({Blocked(1000), Conflict(9, 1000)}), 1000);
  Drain(before, "am", 1000);

  NotifierCore core(Settings({"am"}));
  ASSERT_TRUE(core.Restore(before.Encode()));
  // After the restart the Monitor raises the blocked finding again, later; the conflict is
  // gone.
  for (int cycle = 1; cycle < NotifierCore::kRestoredHoldDownCycles; ++cycle) {
    core.Observe(ActiveOf({Blocked(2000)}), 2000 + cycle);
    EXPECT_EQ(core.QueueLength(), 0u) << cycle;
  }
  core.Observe(ActiveOf({Blocked(2000)}), 2003);
  auto batch = core.Due("am", 2003);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].alert.labels.at("kind"), "conflict");
  EXPECT_EQ(batch[0].alert.ends_at, 2003);
  // The blocked alert keeps its first start.
  EXPECT_EQ(core.Firing().begin()->second.starts_at, 1000);
}

TEST(NotifierCore, ChangedStaticLabelsCloseTheOldAlert) {
  NotifierCore core(Settings({"am"}));
  core.Observe(ActiveOf({Blocked(1000)}), 1000);
  Drain(core, "am", 1000);
  CoreSettings s = Settings({"am"});
  s.context.static_labels["env"] = "prod";
  core.Configure(s);
  core.Observe(ActiveOf({Blocked(1000)}), 1010);
  std::vector<std::string> seen;
  for (auto batch = core.Due("am", 1010); !batch.empty(); batch = core.Due("am", 1010)) {
    for (const auto& e : batch) {
      seen.push_back((e.alert.labels.contains("env") ? "new " : "old ") +
                     std::string(e.alert.Resolved() ? "resolved" : "firing"));
    }
    core.Complete("am", batch, Outcome::kDelivered, 1010, 0);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"old resolved", "new firing"}));
}

TEST(NotifierCore, RemovedReceiversLoseTheirEntriesCounted) {
  NotifierCore core(Settings());
  core.Observe(ActiveOf({Blocked(1000)}), 1000);
  EXPECT_EQ(core.Configure(Settings({"am"})), 1u);
  EXPECT_EQ(core.Dropped(), 1u);
  EXPECT_EQ(core.QueueLength(), 1u);
  // Restoring a state written with more receivers drops theirs too.
  NotifierCore wider(Settings({"am", "hook", "old"}));
  wider.Observe(ActiveOf({Blocked(1000)}), 1000);
  NotifierCore narrow(Settings({"am"}));
  EXPECT_EQ(*narrow.Restore(wider.Encode()), 2u);
  EXPECT_EQ(narrow.Dropped(), 2u);
}

TEST(NotifierCore, RestoreOverTheBoundKeepsTheNewest) {
  NotifierCore wide(Settings({"am"}));
  wide.Observe(ActiveOf({Conflict(1), Conflict(2), Conflict(3)}), 1000);
  CoreSettings s = Settings({"am"});
  s.max_entries = 1;
  NotifierCore small(s);
  EXPECT_EQ(*small.Restore(wide.Encode()), 2u);
  ASSERT_EQ(small.QueueLength(), 1u);
  EXPECT_EQ(small.Due("am", 1000)[0].alert.labels.at("port"), "3");
}

TEST(NotifierCore, RestoreRejectsWhatIsNotAQueue) {
  NotifierCore good(Settings({"am"}));
  good.Observe(ActiveOf({Blocked(1000)}), 1000);
  const std::string text = good.Encode();
  auto j = nlohmann::json::parse(text);

  auto with = [&](auto change) {
    nlohmann::json copy = j;
    change(copy);
    return copy.dump();
  };
  struct Case {
    std::string text;
    const char* error;
  } cases[] = {
      {"", "not valid JSON"},
      {text.substr(0, text.size() / 2), "not valid JSON"},  // a torn write
      {"[]", "expected a JSON object"},
      {with([](auto& c) { c["portwarden_alert_queue"] = 2; }), "format version 1"},
      {with([](auto& c) { c.erase("portwarden_alert_queue"); }), "format version 1"},
      {with([](auto& c) { c["next_seq"] = -1; }), "next_seq"},
      {with([](auto& c) { c["entries"] = 5; }), "entries: expected a list"},
      {with([](auto& c) { c.erase("firing"); }), "firing: expected a list"},
      {with([](auto& c) { c["entries"][0]["seq"] = 0; }), "entries[0].seq"},
      {with([](auto& c) { c["entries"].push_back(c["entries"][0]); }), "entries[1].seq"},
      {with([](auto& c) { c["entries"][0].erase("target"); }), "entries[0].target"},
      {with([](auto& c) { c["entries"][0]["alert"]["labels"] = nlohmann::json::object(); }),
       "entries[0].alert.labels: an alert needs labels"},
      {with([](auto& c) { c["entries"][0]["alert"]["labels"]["kind"] = 3; }),
       "entries[0].alert.labels.kind: expected a string"},
      {with([](auto& c) { c["entries"][0]["alert"]["starts_at"] = "soon"; }),
       "entries[0].alert.starts_at: expected a number"},
      {with([](auto& c) { c["firing"][0] = "x"; }), "firing[0]: expected an object"},
      {with([](auto& c) { c["firing"][0].erase("key"); }), "firing[0].key"},
  };
  for (const auto& c : cases) {
    NotifierCore core(Settings({"am"}));
    core.Observe(ActiveOf({Conflict(7)}), 900);
    const std::string before = core.Encode();
    auto r = core.Restore(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().message.find(c.error), std::string::npos) << r.error().message;
    EXPECT_EQ(core.Encode(), before);  // unchanged
  }
}

TEST(NotifierCore, AbsurdCountsAreBoundedNotTrusted) {
  // A hand-edited file with far more entries than the bound: only the newest stay.
  nlohmann::json j = {
      {"portwarden_alert_queue", 1}, {"next_seq", 1}, {"firing", nlohmann::json::array()}};
  j["entries"] = nlohmann::json::array();
  for (int i = 1; i <= 5000; ++i) {
    j["entries"].push_back({{"seq", i},
                            {"target", "am"},
                            {"enqueued_at", 1},
                            {"alert",
                             {{"labels", {{"alertname", "A" + std::to_string(i)}}},
                              {"annotations", nlohmann::json::object()},
                              {"starts_at", 1},
                              {"ends_at", 0},
                              {"generator_url", ""}}}});
  }
  CoreSettings s = Settings({"am"});
  s.max_entries = 10;
  NotifierCore core(s);
  EXPECT_EQ(*core.Restore(j.dump()), 4990u);
  EXPECT_EQ(core.QueueLength(), 10u);
  EXPECT_EQ(core.Due("am", 2)[0].alert.labels.at("alertname"), "A4991");
  EXPECT_EQ(core.Due("am", 2)[0].seq, 4991u);
}

}  // namespace
}  // namespace portwarden::notifier
