#include "exporter/notifier/alert_queue.h"

#include <gtest/gtest.h>

namespace portwarden::notifier {
namespace {

Alert Firing(const std::string& name, double starts_at = 100) {
  Alert a;
  a.labels = {{"alertname", name}};
  a.starts_at = starts_at;
  return a;
}

Alert Resolved(const std::string& name, double ends_at, double starts_at = 100) {
  Alert a = Firing(name, starts_at);
  a.ends_at = ends_at;
  return a;
}

std::vector<std::string> Names(const std::vector<QueueEntry>& batch) {
  std::vector<std::string> out;
  for (const auto& e : batch) {
    out.push_back(e.alert.labels.at("alertname") + (e.alert.Resolved() ? "-" : "+"));
  }
  return out;
}

TEST(AlertQueue, EveryTransitionIsKeptInOrder) {
  AlertQueue q(100);
  q.Push("am", Firing("A"), 1);
  q.Push("am", Resolved("A", 5), 5);
  q.Push("am", Firing("A", 7), 7);
  EXPECT_EQ(q.size(), 3u);
  // One state of an alert per batch: the resolve cannot overtake the raise.
  EXPECT_EQ(Names(q.Batch("am", 10)), (std::vector<std::string>{"A+"}));
  q.Remove({q.Batch("am", 10)[0].seq});
  EXPECT_EQ(Names(q.Batch("am", 10)), (std::vector<std::string>{"A-"}));
}

TEST(AlertQueue, ResendOfTheSameStateReplacesTheQueuedCopy) {
  AlertQueue q(100);
  q.Push("am", Firing("A"), 1);
  const uint64_t first = q.Batch("am", 1)[0].seq;
  Alert again = Firing("A");
  again.annotations["owner"] = "nginx (pid 9)";
  q.Push("am", again, 61);
  ASSERT_EQ(q.size(), 1u);
  auto batch = q.Batch("am", 10);
  EXPECT_NE(batch[0].seq, first);  // a copy being sent right now does not remove it
  EXPECT_EQ(batch[0].alert.annotations.at("owner"), "nginx (pid 9)");
  q.Remove({first});
  EXPECT_EQ(q.size(), 1u);
  // Two resolves of one alert (resolve times differ) also coalesce.
  q.Push("am", Resolved("B", 5), 5);
  q.Push("am", Resolved("B", 6), 6);
  EXPECT_EQ(q.Count("am"), 2u);
}

TEST(AlertQueue, TargetsAreIndependent) {
  AlertQueue q(100);
  q.Push("am", Firing("A"), 1);
  q.Push("hook", Firing("A"), 1);
  q.Push("am", Firing("B"), 1);
  EXPECT_EQ(q.Count("am"), 2u);
  EXPECT_EQ(q.Count("hook"), 1u);
  EXPECT_EQ(Names(q.Batch("am", 10)), (std::vector<std::string>{"A+", "B+"}));
  EXPECT_EQ(Names(q.Batch("am", 1)), (std::vector<std::string>{"A+"}));
  EXPECT_EQ(q.Retain({"hook"}), 2u);
  EXPECT_EQ(q.Count("am"), 0u);
  EXPECT_EQ(q.size(), 1u);
}

TEST(AlertQueue, BoundDropsOldestFirst) {
  AlertQueue q(3);
  EXPECT_EQ(q.Push("am", Firing("A"), 1), 0u);
  EXPECT_EQ(q.Push("am", Firing("B"), 2), 0u);
  EXPECT_EQ(q.Push("am", Firing("C"), 3), 0u);
  EXPECT_EQ(q.Push("am", Firing("D"), 4), 1u);
  EXPECT_EQ(Names(q.Batch("am", 10)), (std::vector<std::string>{"B+", "C+", "D+"}));
  EXPECT_EQ(q.SetMaxEntries(1), 2u);
  EXPECT_EQ(Names(q.Batch("am", 10)), (std::vector<std::string>{"D+"}));
}

TEST(AlertQueue, DroppingTheNewestEntryKeepsTheOlderOneCoalescable) {
  AlertQueue q(100);
  q.Push("am", Firing("A"), 1);
  q.Push("am", Resolved("A", 2), 2);
  auto seqs = q.entries();
  q.Remove({std::prev(seqs.end())->first});  // the resolve goes
  q.Push("am", Firing("A"), 3);              // same state as the remaining raise
  EXPECT_EQ(q.size(), 1u);
}

TEST(AlertQueue, RestoreKeepsOrderAndSeqs) {
  AlertQueue q(2);
  EXPECT_EQ(q.Restore({5, "am", "", Firing("A"), 1}), 0u);
  EXPECT_EQ(q.Restore({9, "am", "", Firing("B"), 2}), 0u);
  EXPECT_EQ(q.Restore({12, "am", "", Firing("C"), 3}), 1u);
  EXPECT_EQ(q.next_seq(), 13u);
  EXPECT_EQ(Names(q.Batch("am", 10)), (std::vector<std::string>{"B+", "C+"}));
  EXPECT_EQ(q.Batch("am", 10)[0].fingerprint, Fingerprint(Firing("B").labels));
  q.Push("am", Firing("D"), 4);
  EXPECT_EQ(q.Batch("am", 10).back().seq, 13u);
}

}  // namespace
}  // namespace portwarden::notifier
