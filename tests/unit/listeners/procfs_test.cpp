#include "collectors/listeners/procfs.h"

#include <gtest/gtest.h>

namespace portwarden {
namespace {

TEST(ParseProcStat, NameWithSpacesAndParens) {
  auto stat = ParseProcStat(
      "812 (nginx: mas) (x)) S 1 812 812 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 "
      "10000 100 18446744073709551615\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->comm, "nginx: mas) (x)");
  EXPECT_EQ(stat->ppid, 1u);
  EXPECT_EQ(stat->start_time, 4242u);
}

TEST(ParseProcStat, Malformed) {
  EXPECT_FALSE(ParseProcStat(""));
  EXPECT_FALSE(ParseProcStat("812 nginx S 1"));
  EXPECT_FALSE(ParseProcStat("812 (nginx) S"));           // truncated
  EXPECT_FALSE(ParseProcStat("812 (nginx) S x 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 1 0 5"));
}

TEST(ParseStatusUid, ReadsRealUid) {
  EXPECT_EQ(ParseStatusUid("Name:\tnginx\nUid:\t33\t33\t33\t33\nGid:\t33\n"), 33u);
  EXPECT_FALSE(ParseStatusUid("Name:\tnginx\n"));
  EXPECT_FALSE(ParseStatusUid("Name:\tx\nUid:\tabc\n"));
}

TEST(ParseStatusInnermostPid, LastFieldOfNSpid) {
  EXPECT_EQ(ParseStatusInnermostPid("Name:\tsystemd\nPid:\t29206\nNSpid:\t29206\t1\nNSpgid:\t1\n"), 1u);
  EXPECT_EQ(ParseStatusInnermostPid("Name:\tsshd\nNSpid:\t900\n"), 900u);
  EXPECT_FALSE(ParseStatusInnermostPid("Name:\tsshd\nPid:\t900\n"));  // kernels before 4.1
  EXPECT_FALSE(ParseStatusInnermostPid("Name:\tx\nNSpid:\t\n"));
}

TEST(ParseSystemdUnit, CgroupV2AndV1) {
  EXPECT_EQ(ParseSystemdUnit("0::/system.slice/nginx.service\n"), "nginx.service");
  EXPECT_EQ(ParseSystemdUnit("0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
                             "app-foo.service\n"),
            "app-foo.service");
  EXPECT_EQ(ParseSystemdUnit("0::/user.slice/user-1000.slice/session-3.scope\n"), "");
  EXPECT_EQ(ParseSystemdUnit("12:cpu,cpuacct:/system.slice/x.service\n"
                             "1:name=systemd:/system.slice/apache2.service\n"),
            "apache2.service");
  EXPECT_EQ(ParseSystemdUnit("0::/\n"), "");
  EXPECT_EQ(ParseSystemdUnit("garbage"), "");
}

TEST(ParseSocketLink, OnlySockets) {
  EXPECT_EQ(ParseSocketLink("socket:[13146]"), 13146u);
  EXPECT_FALSE(ParseSocketLink("pipe:[13146]"));
  EXPECT_FALSE(ParseSocketLink("socket:[]"));
  EXPECT_FALSE(ParseSocketLink("socket:[12a]"));
  EXPECT_FALSE(ParseSocketLink("/dev/null"));
}

}  // namespace
}  // namespace portwarden
