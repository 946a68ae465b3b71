// OwnerCache bookkeeping without the OS: dumps, process reads and events are synthesized.
#include "collectors/listeners/owner_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

namespace portwarden {
namespace {

using Kind = ProcEvent::Kind;

SocketEntry Sock(uint64_t inode, uint16_t port, uint64_t cookie = 0, uint32_t uid = 0) {
  SocketEntry s;
  s.address = "127.0.0.1";
  s.port = port;
  s.inode = inode;
  s.cookie = cookie;
  s.uid = uid;
  return s;
}

ProcessScan Scan(uint32_t pid, std::vector<SocketFd> sockets, uint64_t start = 1,
                 uint32_t fd_count = 0) {
  ProcessScan s;
  s.pid = pid;
  s.start_time = start;
  s.runtime_ns = 1000;
  s.fd_count = fd_count ? fd_count : static_cast<uint32_t>(sockets.size());
  s.sockets = std::move(sockets);
  return s;
}

Process Info(uint32_t pid, uint32_t ppid, const char* name) {
  Process p;
  p.pid = pid;
  p.ppid = ppid;
  p.name = name;
  return p;
}

// PIDs holding the socket on `port` in the cache's output.
std::vector<uint32_t> HoldersOf(const OwnerCache& cache, uint16_t port) {
  std::vector<uint32_t> pids;
  for (const OwnedSocket& s : *cache.Owned()) {
    if (s.socket.port != port) continue;
    for (const auto& p : s.holders) pids.push_back(p->pid);
  }
  return pids;
}

// Gives every holder an info, as the OS layer does before output.
void FillInfo(OwnerCache& cache) {
  for (uint32_t pid : cache.HoldersNeedingInfo()) cache.SetInfo(pid, Info(pid, 1, "p"));
}

TEST(OwnerCache, ScansAttachHoldersToCurrentSocketsOnly) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80), Sock(101, 443)});
  cache.ApplyScan(Scan(10, {{100, 3}, {555, 4}}));  // 555: a unix socket, not listening
  cache.ApplyScan(Scan(11, {{100, 3}, {101, 5}}));
  FillInfo(cache);
  EXPECT_EQ(HoldersOf(cache, 80), (std::vector<uint32_t>{10, 11}));
  EXPECT_EQ(HoldersOf(cache, 443), (std::vector<uint32_t>{11}));
  EXPECT_TRUE(cache.IsHolder(10));
  EXPECT_EQ(cache.PendingCount(), 0u);
  EXPECT_EQ(cache.TotalFds(), 4u);
}

TEST(OwnerCache, OutputKeepsDumpOrderAndListsEachHolderOnce) {
  OwnerCache cache;
  cache.Reconcile({Sock(101, 443), Sock(100, 80), Sock(101, 443)});  // reported twice
  cache.ApplyScan(Scan(10, {{100, 3}, {100, 7}}));                   // the same socket at two fds
  FillInfo(cache);
  auto out = *cache.Owned();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].socket.port, 443);
  EXPECT_EQ(out[1].socket.port, 80);
  ASSERT_EQ(out[1].holders.size(), 1u);
  EXPECT_EQ(out[1].holders[0]->pid, 10u);
}


TEST(OwnerCache, OutputIsHandedOutAgainUntilSomethingInItChanges) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80), Sock(101, 443)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  FillInfo(cache);
  OwnedSockets first = cache.Owned();

  // A new cycle with the same sockets, a re-read finding the same fds, the same info again.
  cache.Reconcile({Sock(100, 80), Sock(101, 443)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  cache.SetInfo(10, Info(10, 1, "p"));
  EXPECT_EQ(cache.Owned(), first);

  // Each change of what the output shows gives a new output.
  struct Change {
    const char* what;
    std::function<void(OwnerCache&)> apply;
    std::function<void(const std::vector<OwnedSocket>&)> check;
  };
  const Change changes[] = {
      {"renamed holder", [](OwnerCache& c) { c.SetInfo(10, Info(10, 1, "renamed")); },
       [](const auto& out) { EXPECT_EQ(out[0].holders.at(0)->name, "renamed"); }},
      {"new holder", [](OwnerCache& c) { c.ApplyScan(Scan(11, {{101, 4}})); FillInfo(c); },
       [](const auto& out) { EXPECT_EQ(out[1].holders.at(0)->pid, 11u); }},
      {"holder gone", [](OwnerCache& c) { c.DropProcess(10); },
       [](const auto& out) { EXPECT_TRUE(out[0].holders.empty()); }},
      {"socket gone", [](OwnerCache& c) { c.Reconcile({Sock(101, 443)}); },
       [](const auto& out) { EXPECT_EQ(out.size(), 1u); }},
      {"same inode, new cookie", [](OwnerCache& c) { c.Reconcile({Sock(101, 443, 9)}); },
       [](const auto& out) { EXPECT_EQ(out.at(0).socket.cookie, 9u); }},
  };
  OwnedSockets last = cache.Owned();
  for (const Change& change : changes) {
    change.apply(cache);
    OwnedSockets now = cache.Owned();
    EXPECT_NE(now, last) << change.what;
    change.check(*now);
    EXPECT_EQ(cache.Owned(), now) << change.what << ": unchanged since";
    last = now;
  }
}
TEST(OwnerCache, HoldersWithoutInfoAreLeftOutOfTheOutput) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  EXPECT_EQ(cache.HoldersNeedingInfo(), (std::vector<uint32_t>{10}));
  EXPECT_TRUE(HoldersOf(cache, 80).empty());
  cache.SetInfo(10, std::nullopt);  // gone before its info could be read
  EXPECT_EQ(cache.Find(10), nullptr);
  EXPECT_EQ(cache.PendingCount(), 1u);
}

TEST(OwnerCache, VanishedSocketsAreForgotten) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80), Sock(101, 443)});
  cache.ApplyScan(Scan(10, {{100, 3}, {101, 4}}));
  cache.Reconcile({Sock(101, 443)});
  EXPECT_EQ(cache.HoldingsOf(10).size(), 1u);
  EXPECT_EQ(cache.HoldingsOf(10)[0].inode, 101u);
  cache.Reconcile({});
  EXPECT_FALSE(cache.IsHolder(10));
}

TEST(OwnerCache, ReusedInodeWithNewCookieIsANewSocket) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80, /*cookie=*/1)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  EXPECT_EQ(cache.PendingCount(), 0u);
  // Socket closed, its inode number handed out again to another socket.
  cache.Reconcile({Sock(100, 8080, /*cookie=*/2)});
  EXPECT_FALSE(cache.IsHolder(10));
  ASSERT_EQ(cache.Pending().size(), 1u);
  EXPECT_EQ(cache.Pending()[0].cookie, 2u);
  // The stored fd list still names inode 100 at fd 3: a claim to check, not a holder.
  auto claims = cache.PendingClaims();
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].pid, 10u);
  EXPECT_EQ(claims[0].fd, 3);
  cache.AddHolding(claims[0]);
  FillInfo(cache);
  EXPECT_EQ(HoldersOf(cache, 8080), (std::vector<uint32_t>{10}));
}

TEST(OwnerCache, RemovingLastHolderMakesSocketPendingAgain) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.MarkPendingOrphaned();  // searched everywhere, nobody holds it
  EXPECT_EQ(cache.PendingCount(), 0u);
  cache.AddHolding({10, 3, 100});  // unknown pid: ignored
  EXPECT_FALSE(cache.HasHolder({100, 0}));
  cache.ApplyScan(Scan(10, {{100, 3}}));
  EXPECT_TRUE(cache.HasHolder({100, 0}));
  cache.RemoveHolding({10, 3, 100});
  EXPECT_FALSE(cache.HasHolder({100, 0}));
  EXPECT_EQ(cache.PendingCount(), 1u);  // not orphaned any more: worth a search
}

TEST(OwnerCache, RescanReplacesHoldingsAndNewIdentityDropsInfo) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80), Sock(101, 443)});
  cache.ApplyScan(Scan(10, {{100, 3}}, /*start=*/5));
  cache.SetInfo(10, Info(10, 1, "old"));
  cache.ApplyScan(Scan(10, {{101, 4}}, /*start=*/5));  // closed 80, opened 443
  EXPECT_EQ(HoldersOf(cache, 80), std::vector<uint32_t>{});
  EXPECT_EQ(cache.HoldersNeedingInfo(), (std::vector<uint32_t>{10}));  // refreshed on rescan
  cache.SetInfo(10, Info(10, 1, "old"));
  cache.ApplyScan(Scan(10, {{101, 4}}, /*start=*/9));  // PID 10 is another process now
  ASSERT_NE(cache.Find(10), nullptr);
  EXPECT_EQ(cache.Find(10)->info, nullptr);
}

TEST(OwnerCache, ForkOfHolderIsReadForkOfOthersOnlyRecorded) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  cache.ApplyScan(Scan(20, {}));
  auto to_read = cache.ApplyEvents({{Kind::kFork, 11, 10},   // child of a holder
                                    {Kind::kFork, 12, 11},   // grandchild, via the child
                                    {Kind::kFork, 21, 20}},  // child of a non-holder
                                   100.0);
  EXPECT_EQ(to_read, (std::vector<uint32_t>{11, 12}));
  EXPECT_EQ(cache.Unscanned(), (std::vector<uint32_t>{11, 12, 21}));
  EXPECT_TRUE(cache.IsYoung(21));
}

TEST(OwnerCache, ExecOfHolderIsReadAndRenamed) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  cache.ApplyScan(Scan(20, {}));
  cache.SetInfo(10, Info(10, 1, "before"));
  EXPECT_TRUE(cache.HoldersNeedingInfo().empty());
  auto to_read = cache.ApplyEvents({{Kind::kExec, 10, 0}, {Kind::kExec, 20, 0}}, 1.0);
  EXPECT_EQ(to_read, (std::vector<uint32_t>{10}));
  EXPECT_EQ(cache.HoldersNeedingInfo(), (std::vector<uint32_t>{10}));
}

TEST(OwnerCache, ExitDropsHolderAndReparentsChildren) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  cache.ApplyScan(Scan(11, {{100, 3}}));
  cache.SetInfo(10, Info(10, 1, "master"));
  cache.SetInfo(11, Info(11, 10, "worker"));
  auto to_read = cache.ApplyEvents({{Kind::kExit, 10, 0}}, 1.0);
  EXPECT_TRUE(to_read.empty());
  EXPECT_EQ(cache.Find(10), nullptr);
  EXPECT_EQ(HoldersOf(cache, 80), (std::vector<uint32_t>{11}));
  // The worker's parent changed to whoever adopted it: its ppid must be read again.
  EXPECT_EQ(cache.HoldersNeedingInfo(), (std::vector<uint32_t>{11}));
}

TEST(OwnerCache, ExitThenForkOfTheSamePidIsANewProcess) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  cache.ApplyScan(Scan(30, {{100, 3}}));
  cache.SetInfo(30, Info(30, 1, "old"));
  auto to_read = cache.ApplyEvents({{Kind::kExit, 30, 0}, {Kind::kFork, 30, 10}}, 1.0);
  EXPECT_EQ(to_read, (std::vector<uint32_t>{30}));
  ASSERT_NE(cache.Find(30), nullptr);
  EXPECT_FALSE(cache.Find(30)->scanned);
  EXPECT_EQ(cache.Find(30)->info, nullptr);
  EXPECT_FALSE(cache.IsHolder(30));
}

TEST(OwnerCache, ForkThenExitWithinOneBatchReadsNothing) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  auto to_read = cache.ApplyEvents({{Kind::kFork, 11, 10}, {Kind::kExit, 11, 0}}, 1.0);
  EXPECT_TRUE(to_read.empty());
  EXPECT_EQ(cache.Find(11), nullptr);
}

TEST(OwnerCache, CommAndUidEventsRefreshInfo) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  cache.SetInfo(10, Info(10, 1, "a"));
  cache.ApplyEvents({{Kind::kComm, 10, 0}}, 1.0);
  EXPECT_EQ(cache.HoldersNeedingInfo(), (std::vector<uint32_t>{10}));
  cache.SetInfo(10, Info(10, 1, "b"));
  cache.ApplyEvents({{Kind::kUid, 10, 0}}, 1.0);
  EXPECT_EQ(cache.HoldersNeedingInfo(), (std::vector<uint32_t>{10}));
}

TEST(OwnerCache, SyncPidsDropsVanishedAndRecordsNew) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80)});
  cache.ApplyScan(Scan(10, {{100, 3}}));
  cache.ApplyScan(Scan(20, {}));
  auto added = cache.SyncPids({20, 25, 30}, 7.0);
  EXPECT_EQ(added, (std::vector<uint32_t>{25, 30}));
  EXPECT_EQ(cache.Pids(), (std::vector<uint32_t>{20, 25, 30}));
  EXPECT_EQ(cache.PendingCount(), 1u);  // its only holder vanished
  EXPECT_EQ(cache.Unscanned(), (std::vector<uint32_t>{25, 30}));
}

TEST(OwnerCache, PendingUidsAreDistinct) {
  OwnerCache cache;
  cache.Reconcile({Sock(100, 80, 0, 33), Sock(101, 81, 0, 33), Sock(102, 82, 0, 0)});
  auto uids = cache.PendingUids();
  std::sort(uids.begin(), uids.end());
  EXPECT_EQ(uids, (std::vector<uint32_t>{0, 33}));
}

TEST(OwnerCache, YoungProcessesAreDueAtDoublingAges) {
  OwnerCache cache(OwnerCacheOptions{8});
  cache.AddNewborn(50, 100.0);
  EXPECT_TRUE(cache.DueYoung(100.5).empty());
  EXPECT_EQ(cache.DueYoung(101.0), (std::vector<uint32_t>{50}));
  cache.MarkYoungChecked(50, 101.0);
  EXPECT_TRUE(cache.DueYoung(101.9).empty());
  EXPECT_EQ(cache.DueYoung(102.0), (std::vector<uint32_t>{50}));
  cache.MarkYoungChecked(50, 105.0);  // late: covers the check due at 4 s
  EXPECT_TRUE(cache.DueYoung(107.9).empty());
  EXPECT_EQ(cache.DueYoung(108.0), (std::vector<uint32_t>{50}));
  cache.MarkYoungChecked(50, 108.0);  // the last one inside the 8 s window
  EXPECT_FALSE(cache.IsYoung(50));
  EXPECT_TRUE(cache.DueYoung(200.0).empty());
}

TEST(OwnerCache, NoYoungTrackingWithZeroWindow) {
  OwnerCache cache(OwnerCacheOptions{0});
  cache.AddNewborn(50, 100.0);
  EXPECT_FALSE(cache.IsYoung(50));
  EXPECT_TRUE(cache.DueYoung(1000.0).empty());
  EXPECT_EQ(cache.Unscanned(), (std::vector<uint32_t>{50}));
}

TEST(OwnerCache, SweepGoesRoundRobinAndReportsWrap) {
  OwnerCache cache;
  for (uint32_t pid : {5u, 7u, 9u}) cache.ApplyScan(Scan(pid, {}));
  bool wrapped = false;
  EXPECT_EQ(cache.NextSweep(2, &wrapped), (std::vector<uint32_t>{5, 7}));
  EXPECT_FALSE(wrapped);
  EXPECT_EQ(cache.NextSweep(2, &wrapped), (std::vector<uint32_t>{9, 5}));
  EXPECT_TRUE(wrapped);
  cache.DropProcess(7);
  EXPECT_EQ(cache.NextSweep(5, &wrapped), (std::vector<uint32_t>{9, 5}));  // at most all
}

TEST(OwnerCache, TotalFdsFollowsReadsAndDrops) {
  OwnerCache cache;
  cache.ApplyScan(Scan(1, {}, 1, 100));
  cache.ApplyScan(Scan(2, {}, 1, 50));
  EXPECT_EQ(cache.TotalFds(), 150u);
  cache.ApplyScan(Scan(1, {}, 1, 10));
  EXPECT_EQ(cache.TotalFds(), 60u);
  cache.DropProcess(2);
  EXPECT_EQ(cache.TotalFds(), 10u);
}

}  // namespace
}  // namespace portwarden
