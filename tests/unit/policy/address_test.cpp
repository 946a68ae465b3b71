#include "exporter/policy/address.h"

#include <gtest/gtest.h>

namespace portwarden::policy {
namespace {

TEST(CanonicalAddress, Spellings) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.0.0.5", "10.0.0.5"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"::", "::"},
      {"0:0:0:0:0:0:0:0", "::"},
      {"::1", "::1"},
      {"2001:DB8:0:0::5", "2001:db8::5"},
      {"2001:0db8:0000:0001:0000:0000:0000:0001", "2001:db8:0:1::1"},
      {"fe80::", "fe80::"},
      {"::ffff:10.0.0.5", "::ffff:10.0.0.5"},
      {"::FFFF:a00:5", "::ffff:10.0.0.5"},
  };
  for (const auto& [text, canonical] : cases) {
    EXPECT_EQ(CanonicalAddress(text), canonical) << text;
  }
}

TEST(CanonicalAddress, Rejects) {
  for (const char* text : {"",
                           "10.0.0",
                           "10.0.0.5.1",
                           "10.0.0.256",
                           "10.0.0.05",
                           "10..0.5",
                           "1.2.3.4 ",
                           "a.b.c.d",
                           ":::",
                           "1::2::3",
                           "1:2:3:4:5:6:7:8:9",
                           "1:2:3:4:5:6:7",
                           "12345::",
                           "fe80::1%eth0",
                           "[::1]",
                           "::1.2.3",
                           "1.2.3.4::",
                           "g::1",
                           ":1",
                           "1:"}) {
    EXPECT_EQ(CanonicalAddress(text), std::nullopt) << text;
  }
}

TEST(CanonicalAddress, FamilyAndWildcard) {
  EXPECT_TRUE(IsIpv6("::1"));
  EXPECT_FALSE(IsIpv6("10.0.0.5"));
  EXPECT_TRUE(IsWildcard("0.0.0.0"));
  EXPECT_TRUE(IsWildcard("::"));
  EXPECT_FALSE(IsWildcard("::1"));
}

}  // namespace
}  // namespace portwarden::policy
