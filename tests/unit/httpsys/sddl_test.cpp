#include <gtest/gtest.h>

#include "collectors/httpsys/httpsys.h"

namespace portwarden::httpsys {
namespace {

TEST(DecodeSddl, EveryoneListen) {
  Expected<std::vector<UrlAclPrincipal>> decoded = DecodeSddl("D:(A;;GX;;;WD)");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 1u);
  const UrlAclPrincipal& p = decoded->front();
  EXPECT_EQ(p.trustee, "WD");
  EXPECT_EQ(p.sid, "S-1-1-0");
  EXPECT_EQ(p.account, "");
  EXPECT_TRUE(p.listen);
  EXPECT_FALSE(p.delegate);
}

TEST(DecodeSddl, ServiceSidsAndAliasesInOrder) {
  Expected<std::vector<UrlAclPrincipal>> decoded = DecodeSddl(
      "D:(A;;GX;;;S-1-5-80-569256582-2953403351-2909559716-1301513147-412116970)"
      "(A;;GX;;;BU)(A;;GX;;;LS)(A;;GX;;;NS)(A;;GX;;;AU)");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 5u);
  EXPECT_EQ((*decoded)[0].sid, "S-1-5-80-569256582-2953403351-2909559716-1301513147-412116970");
  EXPECT_EQ((*decoded)[1].sid, "S-1-5-32-545");
  EXPECT_EQ((*decoded)[2].sid, "S-1-5-19");
  EXPECT_EQ((*decoded)[3].sid, "S-1-5-20");
  EXPECT_EQ((*decoded)[4].sid, "S-1-5-11");
}

TEST(DecodeSddl, RightsTokensAndMasks) {
  Expected<std::vector<UrlAclPrincipal>> decoded =
      DecodeSddl("D:(A;;GA;;;BA)(A;;GW;;;NS)(A;;0x20000000;;;SY)(A;;0x40000000;;;LS)(A;;GR;;;BU)");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 5u);
  EXPECT_TRUE((*decoded)[0].listen && (*decoded)[0].delegate);
  EXPECT_TRUE(!(*decoded)[1].listen && (*decoded)[1].delegate);
  EXPECT_TRUE((*decoded)[2].listen && !(*decoded)[2].delegate);
  EXPECT_TRUE(!(*decoded)[3].listen && (*decoded)[3].delegate);
  EXPECT_TRUE(!(*decoded)[4].listen && !(*decoded)[4].delegate);
}

TEST(DecodeSddl, SkipsOwnerGroupFlagsAndSacl) {
  Expected<std::vector<UrlAclPrincipal>> decoded =
      DecodeSddl("O:BAG:SYD:PAI(A;;GX;;;IU)S:(AU;FA;GA;;;WD)");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 1u);
  EXPECT_EQ(decoded->front().sid, "S-1-5-4");
}

TEST(DecodeSddl, DomainRelativeAliasKeepsTrusteeWithoutSid) {
  Expected<std::vector<UrlAclPrincipal>> decoded = DecodeSddl("D:(A;;GX;;;DA)");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->front().trustee, "DA");
  EXPECT_EQ(decoded->front().sid, "");
}

TEST(DecodeSddl, EmptyDaclGrantsNobody) {
  Expected<std::vector<UrlAclPrincipal>> decoded = DecodeSddl("D:");
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(DecodeSddl, RejectsMalformedSddl) {
  struct Case {
    std::string_view sddl;
    std::string_view message_part;
  };
  for (const Case& c : {
           Case{"", "no DACL"},
           Case{"O:BA", "no DACL"},
           Case{"D:(A;;GX;;;S-1-5-80-4059739203-877974739", "unterminated ACE"},
           Case{"D:(A;;GX;;WD)", "fewer than 6 fields"},
           Case{"D:(A;;GX;;;WD;x)", "more than 6 fields"},
           Case{"D:(D;;GX;;;WD)", "not supported"},
           Case{"D:(A;;G;;;WD)", "bad rights"},
           Case{"D:(A;;0x123456789;;;WD)", "bad rights"},
           Case{"D:(A;;GX;;;Everyone)", "bad trustee"},
           Case{"D:(A;;GX;;;S-1-5-)", "bad trustee"},
           Case{"X:(A;;GX;;;WD)", "expected O:, G:, D: or S:"},
           Case{"D:(A;;GX;;;WD)junk", "expected O:, G:, D: or S:"},
           Case{"D:(A;;GX;;;WD)D:(A;;GX;;;BU)", "more than one DACL"},
           Case{"O::D:(A;;GX;;;WD)", "empty owner"},
       }) {
    Expected<std::vector<UrlAclPrincipal>> decoded = DecodeSddl(c.sddl);
    ASSERT_FALSE(decoded.ok()) << c.sddl;
    EXPECT_NE(decoded.error().message.find(c.message_part), std::string::npos)
        << c.sddl << " -> " << decoded.error().message;
  }
}

}  // namespace
}  // namespace portwarden::httpsys
