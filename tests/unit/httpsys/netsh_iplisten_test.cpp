#include <gtest/gtest.h>

#include "collectors/httpsys/netsh_parse.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::httpsys {
namespace {

using testing::ReadWindowsFixture;
using testing::WithCrlf;

std::vector<std::string> Addresses(const IpListenList& list) {
  std::vector<std::string> out;
  for (const IpListenEntry& entry : list.entries) out.push_back(entry.address);
  return out;
}

TEST(ParseIpListen, RealPasteYieldsTheLastListing) {
  Expected<IpListenList> list =
      ParseIpListen(ReadWindowsFixture("netsh-iplisten-en-1-with-entries.txt"));
  ASSERT_TRUE(list.ok()) << list.error().message;
  // The first listing had 192.168.33.1, deleted in the paste before the second listing.
  EXPECT_EQ(Addresses(*list), (std::vector<std::string>{"192.168.33.2", "127.0.0.0", "127.0.0.1"}));
  EXPECT_EQ(list->skipped, 0);
}

TEST(ParseIpListen, EmptyListIsNotAnError) {
  Expected<IpListenList> list = ParseIpListen(ReadWindowsFixture("netsh-iplisten-synth-empty.txt"));
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_TRUE(list->entries.empty());
  EXPECT_EQ(list->skipped, 0);
}

TEST(ParseIpListen, BomCrlfAndIpv6) {
  Expected<IpListenList> list =
      ParseIpListen(ReadWindowsFixture("netsh-iplisten-synth-ipv6-crlf-bom.txt"));
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(Addresses(*list), (std::vector<std::string>{"10.0.0.5", "::", "fe80::5efe:a00:5"}));
}

TEST(ParseIpListen, LocalizedHeaderIsNotNeeded) {
  Expected<IpListenList> list = ParseIpListen(
      WithCrlf("\nIndirizzi IP presenti nell'elenco di ascolto IP:\n"
               "-------------------------------------------------\n\n    10.1.2.3\n\n"));
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(Addresses(*list), (std::vector<std::string>{"10.1.2.3"}));
}

TEST(ParseIpListen, WithoutHeaderTakesAddressLines) {
  Expected<IpListenList> list = ParseIpListen("    10.0.0.5\n    ::\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(Addresses(*list), (std::vector<std::string>{"10.0.0.5", "::"}));
}

TEST(ParseIpListen, AbsurdAndTruncatedEntriesAreSkippedAndCounted) {
  Expected<IpListenList> list = ParseIpListen(
      "IP addresses present in the IP listen list:\n"
      "-------------------------------------------\n\n"
      "    192.168.33.300\n    10.0.0.5\n    192.168.3\n    fe80::1::2\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(Addresses(*list), (std::vector<std::string>{"10.0.0.5"}));
  EXPECT_EQ(list->skipped, 3);
}

TEST(ParseIpListen, UnrecognizableTextIsAnError) {
  Expected<IpListenList> list =
      ParseIpListen("The following command was not found: http show iplistn.\r\n");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message.find("netsh http show iplisten"), std::string::npos);
  EXPECT_NE(list.error().message.find("The following command was not found"), std::string::npos);
}

TEST(ParseIpListen, EmptyAndUtf16InputAreErrors) {
  EXPECT_NE(ParseIpListen("").error().message.find("empty input"), std::string::npos);
  EXPECT_NE(ParseIpListen(" \r\n\r\n").error().message.find("empty input"), std::string::npos);
  EXPECT_NE(ParseIpListen(std::string("\xFF\xFE\n\0I\0", 6)).error().message.find("UTF-16"),
            std::string::npos);
}

}  // namespace
}  // namespace portwarden::httpsys
