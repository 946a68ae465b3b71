#include <gtest/gtest.h>

#include "collectors/httpsys/netsh_parse.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::httpsys {
namespace {

using testing::ReadWindowsFixture;

TEST(ParseExcludedPortRanges, TcpListingWithAdministeredRange) {
  Expected<ExcludedPortRangeList> list =
      ParseExcludedPortRanges(ReadWindowsFixture("netsh-excludedportrange-synth-tcp-crlf.txt"));
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(
      list->ranges,
      (std::vector<ExcludedPortRange>{
          {1024, 1123, false}, {2869, 2869, false}, {5357, 5357, false}, {50000, 50059, true}}));
  EXPECT_EQ(list->skipped, 0);
}

TEST(ParseExcludedPortRanges, LocalizedHeadingsAreNotNeeded) {
  Expected<ExcludedPortRangeList> list = ParseExcludedPortRanges(
      "\nIntervalli di esclusione porte protocollo tcp\n\n"
      "Porta iniziale    Porta finale\n"
      "--------------    ------------\n"
      "          5357            5357\n"
      "         50000           50059     *\n\n"
      "* - Esclusioni porte amministrate.\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->ranges,
            (std::vector<ExcludedPortRange>{{5357, 5357, false}, {50000, 50059, true}}));
}

TEST(ParseExcludedPortRanges, EmptyListingIsNotAnError) {
  Expected<ExcludedPortRangeList> list = ParseExcludedPortRanges(
      "\nProtocol tcp Port Exclusion Ranges\n\nStart Port    End Port\n"
      "----------    --------\n\n* - Administered port exclusions.\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_TRUE(list->ranges.empty());
  EXPECT_EQ(list->skipped, 0);
}

TEST(ParseExcludedPortRanges, AbsurdAndTruncatedRowsAreSkippedAndCounted) {
  Expected<ExcludedPortRangeList> list = ParseExcludedPortRanges(
      "Start Port    End Port\n----------    --------\n"
      "     99999      100000\n"        // beyond 65535
      "      2000        1000\n"        // start after end
      "      1024\n"                    // cut short
      "      3000        3009     #\n"  // unknown marker
      "      0           10\n"          // port 0
      "      4000        4009\n");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->ranges, (std::vector<ExcludedPortRange>{{4000, 4009, false}}));
  EXPECT_EQ(list->skipped, 5);
}

TEST(ParseExcludedPortRanges, UnrecognizableTextIsAnError) {
  Expected<ExcludedPortRangeList> list =
      ParseExcludedPortRanges("The requested operation requires elevation.\n");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message.find("excludedportrange"), std::string::npos);
  EXPECT_NE(list.error().message.find("requires elevation"), std::string::npos);
}

}  // namespace
}  // namespace portwarden::httpsys
