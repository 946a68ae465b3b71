// The Windows owner cache with a scripted process reader: owners are read once per process
// (not per socket), image path and user once per (PID, creation time), and a cycle where
// nothing changed hands out the last output again.
#include "collectors/listeners/win_owners.h"

#include <gtest/gtest.h>

namespace portwarden {
namespace {

struct FakeProcess {
  uint64_t created = 0;
  std::string exe, user;
};

class FakeReader : public WinProcessReader {
 public:
  std::map<uint32_t, FakeProcess> procs;  // what can be opened
  std::map<uint32_t, int> opens, image_reads, user_reads;

  std::optional<uint64_t> CreationTime(uint32_t pid) override {
    ++opens[pid];
    auto it = procs.find(pid);
    if (it == procs.end()) return std::nullopt;
    return it->second.created;
  }
  std::string ImagePath(uint32_t pid) override {
    ++image_reads[pid];
    return procs.at(pid).exe;
  }
  std::string User(uint32_t pid) override {
    ++user_reads[pid];
    return procs.at(pid).user;
  }
};

SocketEntry Tcp(uint16_t port, uint32_t pid) {
  SocketEntry e;
  e.address = "0.0.0.0";
  e.port = port;
  e.pid = pid;
  return e;
}

struct WinOwnerCacheTest : ::testing::Test {
  FakeReader reader;
  WinOwnerCache cache{reader};
  std::vector<SocketEntry> sockets = {Tcp(80, 4),    Tcp(443, 4),   Tcp(8080, 100),
                                      Tcp(8081, 100), Tcp(8082, 100), Tcp(9000, 200),
                                      Tcp(135, 0)};
  std::map<uint32_t, Process> toolhelp = {{4, {4, 0, "System", "", "", "", "", "", "", {}}},
                                          {100, {100, 1, "nginx.exe", "", "", "", "", "", "", {}}},
                                          {200, {200, 1, "svchost.exe", "", "", "", "", "", "", {}}}};
  std::map<uint32_t, std::string> services = {{200, "WinRM,BITS"}};

  void SetUp() override {
    reader.procs[100] = {1000, "C:\\nginx\\nginx.exe", "WEB01\\nginx"};
    reader.procs[200] = {2000, "C:\\Windows\\System32\\svchost.exe", "NT AUTHORITY\\SYSTEM"};
  }
  OwnedSockets Cycle() { return cache.Attribute(sockets, toolhelp, services); }
};

TEST_F(WinOwnerCacheTest, ReadsEachOwnerOncePerCycleNotPerSocket) {
  OwnedSockets out = Cycle();
  ASSERT_EQ(out->size(), sockets.size());
  const auto& s = *out;
  EXPECT_EQ(s[0].kind, OwnerKind::kKernel);
  ASSERT_EQ(s[0].holders.size(), 1u);
  EXPECT_EQ(s[0].holders[0]->name, "System");
  EXPECT_EQ(s[0].holders[0], s[1].holders[0]);  // one object per process
  EXPECT_EQ(s[2].kind, OwnerKind::kProcess);
  EXPECT_EQ(*s[2].holders[0], (Process{100, 1, "nginx.exe", "C:\\nginx\\nginx.exe",
                                       "WEB01\\nginx", "", "", "", "", {}}));
  EXPECT_EQ(s[2].holders[0], s[4].holders[0]);
  EXPECT_EQ(s[5].holders[0]->service, "WinRM,BITS");
  EXPECT_EQ(s[5].holders[0]->user, "NT AUTHORITY\\SYSTEM");
  EXPECT_TRUE(s[6].holders.empty());  // PID 0: no owner
  EXPECT_EQ(s[6].socket.port, 135);
  // The kernel and PID 0 are never opened; the others once each, not once per socket.
  EXPECT_EQ(reader.opens, (std::map<uint32_t, int>{{100, 1}, {200, 1}}));
  EXPECT_EQ(reader.image_reads, (std::map<uint32_t, int>{{100, 1}, {200, 1}}));
  EXPECT_EQ(reader.user_reads, (std::map<uint32_t, int>{{100, 1}, {200, 1}}));
}

TEST_F(WinOwnerCacheTest, AQuietCycleOpensEachOwnerOnceAndHandsOutTheLastOutput) {
  OwnedSockets first = Cycle();
  OwnedSockets second = Cycle();
  EXPECT_EQ(second, first);
  EXPECT_EQ(reader.opens, (std::map<uint32_t, int>{{100, 2}, {200, 2}}));
  // Image path and account (an LSA lookup) are not read again for the same process.
  EXPECT_EQ(reader.image_reads, (std::map<uint32_t, int>{{100, 1}, {200, 1}}));
  EXPECT_EQ(reader.user_reads, (std::map<uint32_t, int>{{100, 1}, {200, 1}}));
}

TEST_F(WinOwnerCacheTest, AReusedPidIsReadAgain) {
  OwnedSockets first = Cycle();
  reader.procs[100] = {1001, "C:\\apache\\httpd.exe", "WEB01\\apache"};
  toolhelp[100].name = "httpd.exe";
  OwnedSockets second = Cycle();
  EXPECT_NE(second, first);
  EXPECT_EQ((*second)[2].holders[0]->exe, "C:\\apache\\httpd.exe");
  EXPECT_EQ((*second)[2].holders[0]->user, "WEB01\\apache");
  EXPECT_EQ(reader.user_reads[100], 2);
  // The unchanged owner keeps its object.
  EXPECT_EQ((*second)[5].holders[0], (*first)[5].holders[0]);
  EXPECT_EQ(reader.user_reads[200], 1);
}

TEST_F(WinOwnerCacheTest, ChangesOutsideTheProcessReadsMakeANewOutput) {
  OwnedSockets first = Cycle();
  services[200] = "WinRM";  // a service stopped
  OwnedSockets second = Cycle();
  ASSERT_NE(second, first);
  EXPECT_EQ((*second)[5].holders[0]->service, "WinRM");
  EXPECT_EQ(reader.user_reads[200], 1);  // the same process: not read again
  sockets.pop_back();                     // a socket closed
  OwnedSockets third = Cycle();
  EXPECT_NE(third, second);
  EXPECT_EQ(third->size(), sockets.size());
}

TEST_F(WinOwnerCacheTest, AProcessThatCannotBeOpenedIsTriedAgainEveryCycle) {
  reader.procs.erase(200);  // protected, or no permission yet
  OwnedSockets first = Cycle();
  EXPECT_EQ((*first)[5].holders[0]->exe, "");
  EXPECT_EQ((*first)[5].holders[0]->name, "svchost.exe");  // toolhelp still names it
  EXPECT_EQ(reader.user_reads.count(200), 0u);
  EXPECT_EQ(Cycle(), first);
  reader.procs[200] = {2000, "C:\\Windows\\System32\\svchost.exe", "NT AUTHORITY\\SYSTEM"};
  OwnedSockets third = Cycle();
  EXPECT_EQ(reader.opens[200], 3);
  EXPECT_EQ((*third)[5].holders[0]->user, "NT AUTHORITY\\SYSTEM");
}

}  // namespace
}  // namespace portwarden
