#include "collectors/listeners/proc_net.h"

#include <gtest/gtest.h>

#include "tests/unit/listeners/test_util.h"

namespace portwarden {
namespace {

using testing::ReadFixture;

TEST(ParseProcNet, TcpKeepsOnlyListeners) {
  auto table = ParseProcNet(ReadFixture("linux/proc_net_tcp.txt"), Proto::kTcp, Family::kIpv4);
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_EQ(table->skipped, 0);
  ASSERT_EQ(table->sockets.size(), 4u);  // 4 LISTEN rows; TIME_WAIT and ESTABLISHED dropped
  EXPECT_EQ(table->sockets[1].address, "0.0.0.0");
  EXPECT_EQ(table->sockets[1].port, 80);
  EXPECT_EQ(table->sockets[1].inode, 13146u);
  EXPECT_EQ(table->sockets[2].address, "127.0.0.2");
  EXPECT_EQ(table->sockets[2].port, 9100);
  EXPECT_EQ(table->sockets[3].address, "127.0.0.1");
  EXPECT_EQ(table->sockets[3].port, 8080);
  EXPECT_EQ(table->sockets[3].proto, Proto::kTcp);
  EXPECT_EQ(table->sockets[3].family, Family::kIpv4);
}

TEST(ParseProcNet, Tcp6Addresses) {
  auto table = ParseProcNet(ReadFixture("linux/proc_net_tcp6.txt"), Proto::kTcp, Family::kIpv6);
  ASSERT_TRUE(table) << table.error().message;
  ASSERT_EQ(table->sockets.size(), 2u);
  EXPECT_EQ(table->sockets[0].address, "::1");
  EXPECT_EQ(table->sockets[0].port, 9000);
  EXPECT_EQ(table->sockets[1].address, "::");
  EXPECT_EQ(table->sockets[1].port, 443);
  EXPECT_EQ(table->sockets[1].inode, 13149u);
}

TEST(ParseProcNet, UdpKeepsUnconnected) {
  auto v4 = ParseProcNet(ReadFixture("linux/proc_net_udp.txt"), Proto::kUdp, Family::kIpv4);
  auto v6 = ParseProcNet(ReadFixture("linux/proc_net_udp6.txt"), Proto::kUdp, Family::kIpv6);
  ASSERT_TRUE(v4 && v6);
  ASSERT_EQ(v4->sockets.size(), 2u);
  EXPECT_EQ(v4->sockets[0].port, 5353);
  EXPECT_EQ(v4->sockets[1].address, "127.0.0.1");
  EXPECT_EQ(v4->sockets[1].port, 8125);
  ASSERT_EQ(v6->sockets.size(), 1u);
  EXPECT_EQ(v6->sockets[0].address, "::");
  EXPECT_EQ(v6->sockets[0].inode, 13152u);
}

TEST(ParseProcNet, BadHeaderIsAnError) {
  auto table = ParseProcNet("garbage\n 0: 00000000:0050\n", Proto::kTcp, Family::kIpv4);
  ASSERT_FALSE(table);
  EXPECT_NE(table.error().message.find("header"), std::string::npos);
  EXPECT_FALSE(ParseProcNet("", Proto::kTcp, Family::kIpv4));
}

TEST(ParseProcNet, MalformedLinesAreSkippedAndCounted) {
  std::string text = ReadFixture("linux/proc_net_tcp.txt");
  text += "   8: 0100007F:1F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n";
  text += "   9: ZZZZZZZZ:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n";
  text += "  10: 0100007F:0050\n";  // truncated record
  text += "  11: 0100007F:0050 00000000:0000 0A 0:0 00:0 0 0 0 99999999999999999999999\n";
  auto table = ParseProcNet(text, Proto::kTcp, Family::kIpv4);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->skipped, 4);
  EXPECT_EQ(table->sockets.size(), 4u);
}

TEST(ParseProcNet, WrongFamilyWidthIsSkipped) {
  // An IPv6 table decoded as IPv4: every row has the wrong address width.
  auto table = ParseProcNet(ReadFixture("linux/proc_net_tcp6.txt"), Proto::kTcp, Family::kIpv4);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->skipped, 2);
  EXPECT_TRUE(table->sockets.empty());
}

}  // namespace
}  // namespace portwarden
