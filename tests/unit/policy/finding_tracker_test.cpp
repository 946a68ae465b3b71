#include "exporter/policy/finding_tracker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portwarden::policy {
namespace {

using std::chrono::seconds;

const TimePoint kStart = TimePoint{} + std::chrono::hours(24 * 365 * 50);

Evaluation With(std::vector<std::string> keys) {
  Evaluation evaluation;
  for (std::string& key : keys) {
    Finding finding;
    finding.key = std::move(key);
    evaluation.findings.push_back(std::move(finding));
  }
  return evaluation;
}

/// "raised a", "resolved b": what a cycle emitted.
std::vector<std::string> Names(const std::vector<Transition>& transitions) {
  std::vector<std::string> names;
  for (const Transition& t : transitions) {
    names.push_back(std::string(ToString(t.kind)) + " " + t.finding.key);
  }
  return names;
}

using Strings = std::vector<std::string>;

TEST(FindingTracker, RaisesAtOnceAndResolvesAfterThreeAbsentCycles) {
  FindingTracker tracker;  // default hold-down: 3 cycles
  EXPECT_EQ(Names(tracker.Update(With({"a"}), kStart)), Strings{"raised a"});
  EXPECT_EQ(Names(tracker.Update(With({"a"}), kStart + seconds(5))), Strings{});
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(10))), Strings{});
  EXPECT_EQ(tracker.Active().at("a").absent_cycles, 1);
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(15))), Strings{});
  const std::vector<Transition> resolved = tracker.Update(With({}), kStart + seconds(20));
  ASSERT_EQ(Names(resolved), Strings{"resolved a"});
  EXPECT_EQ(resolved[0].at, kStart + seconds(20));
  EXPECT_EQ(resolved[0].raised_at, kStart);
  EXPECT_TRUE(tracker.Active().empty());
}

TEST(FindingTracker, FlappingInsideTheHoldDownIsOneFinding) {
  FindingTracker tracker(HoldDown{.cycles = 3});
  std::vector<std::string> emitted;
  // Present every other cycle, for ten cycles: never absent three cycles in a row.
  for (int cycle = 0; cycle < 10; ++cycle) {
    const auto transitions =
        tracker.Update(With(cycle % 2 == 0 ? Strings{"flap"} : Strings{}), kStart + seconds(cycle));
    for (const std::string& name : Names(transitions)) emitted.push_back(name);
  }
  EXPECT_EQ(emitted, Strings{"raised flap"});
  EXPECT_EQ(tracker.Active().at("flap").raised_at, kStart);
  // It settles: resolved once, three absent cycles after it was last seen (cycle 8).
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(10))), Strings{});
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(11))), Strings{"resolved flap"});
}

TEST(FindingTracker, ReappearingAfterResolveIsANewRaise) {
  FindingTracker tracker(HoldDown{.cycles = 1});
  EXPECT_EQ(Names(tracker.Update(With({"a"}), kStart)), Strings{"raised a"});
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(5))), Strings{"resolved a"});
  const auto again = tracker.Update(With({"a"}), kStart + seconds(10));
  ASSERT_EQ(Names(again), Strings{"raised a"});
  EXPECT_EQ(again[0].raised_at, kStart + seconds(10));
}

TEST(FindingTracker, DurationMustAlsoPass) {
  FindingTracker tracker(HoldDown{.cycles = 2, .duration = seconds(60)});
  tracker.Update(With({"a"}), kStart);
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(10))), Strings{});
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(20))), Strings{});  // 2 cycles, 20 s
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(59))), Strings{});
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(60))), Strings{"resolved a"});
}

TEST(FindingTracker, CyclesBelowOneActAsOne) {
  FindingTracker tracker(HoldDown{.cycles = 0});
  tracker.Update(With({"a"}), kStart);
  EXPECT_EQ(Names(tracker.Update(With({}), kStart + seconds(1))), Strings{"resolved a"});
}

TEST(FindingTracker, RaisesInEvaluationOrderThenResolvesInKeyOrder) {
  FindingTracker tracker(HoldDown{.cycles = 1});
  tracker.Update(With({"z", "y"}), kStart);
  EXPECT_EQ(Names(tracker.Update(With({"b", "a"}), kStart + seconds(1))),
            (Strings{"raised b", "raised a", "resolved y", "resolved z"}));
}

TEST(FindingTracker, KeepsTheLatestTextOfAnOpenFinding) {
  FindingTracker tracker;
  Evaluation first = With({"wrong_owner|web"});
  first.findings[0].owner = "apache2 (pid 9)";
  Evaluation second = With({"wrong_owner|web"});
  second.findings[0].owner = "apache2 (pid 10)";
  tracker.Update(first, kStart);
  EXPECT_TRUE(tracker.Update(second, kStart + seconds(5)).empty());
  EXPECT_EQ(tracker.Active().at("wrong_owner|web").finding.owner, "apache2 (pid 10)");
  EXPECT_EQ(tracker.Active().at("wrong_owner|web").last_seen, kStart + seconds(5));
}

}  // namespace
}  // namespace portwarden::policy
