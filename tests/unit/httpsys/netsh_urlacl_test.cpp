#include <gtest/gtest.h>

#include "collectors/httpsys/netsh_parse.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::httpsys {
namespace {

using testing::ReadWindowsFixture;
using testing::WithCrlf;

constexpr std::string_view kWinRmSid =
    "S-1-5-80-569256582-2953403351-2909559716-1301513147-412116970";
constexpr std::string_view kWecsvcSid =
    "S-1-5-80-4059739203-877974739-1245631912-527174227-2996563517";

UrlAclList MustParse(std::string_view text) {
  Expected<UrlAclList> list = ParseUrlAcl(text);
  EXPECT_TRUE(list.ok()) << (list.ok() ? "" : list.error().message);
  return list.ok() ? *list : UrlAclList{};
}

TEST(ParseUrlAcl, IisServerCaptureWithWrappedSddlAndCutEnd) {
  UrlAclList list = MustParse(ReadWindowsFixture("netsh-urlacl-en-2.txt"));
  ASSERT_EQ(list.reservations.size(), 3u);
  // The last reservation is cut mid-URL ("https://+:443/sra_{BA195980-...").
  EXPECT_EQ(list.skipped, 1);

  const UrlReservation& temp = list.reservations[0];
  EXPECT_EQ(temp.url, "http://+:80/Temporary_Listen_Addresses/");
  EXPECT_EQ(temp.sddl, "D:(A;;GX;;;WD)");
  EXPECT_EQ(temp.principals,
            (std::vector<UrlAclPrincipal>{{"\\Everyone", "WD", "S-1-1-0", true, false}}));

  const UrlReservation& wsman = list.reservations[1];
  EXPECT_EQ(wsman.url, "http://+:5985/wsman/");
  // The console wrapped the SDDL after "...527174227"; its rest "-2996563517)" is joined back.
  EXPECT_EQ(wsman.sddl,
            "D:(A;;GX;;;" + std::string(kWinRmSid) + ")(A;;GX;;;" + std::string(kWecsvcSid) + ")");
  ASSERT_EQ(wsman.principals.size(), 2u);
  EXPECT_EQ(wsman.principals[0].account, "NT SERVICE\\WinRM");
  EXPECT_EQ(wsman.principals[0].sid, kWinRmSid);
  EXPECT_EQ(wsman.principals[1].account, "NT SERVICE\\Wecsvc");
  EXPECT_EQ(wsman.principals[1].sid, kWecsvcSid);
  EXPECT_TRUE(wsman.principals[1].listen);
  EXPECT_FALSE(wsman.principals[1].delegate);

  EXPECT_EQ(list.reservations[2].url, "http://+:47001/wsman/");
  EXPECT_EQ(list.reservations[2].principals, wsman.principals);
}

TEST(ParseUrlAcl, Windows10CaptureWithWeakWildcards) {
  UrlAclList list = MustParse(ReadWindowsFixture("netsh-urlacl-en-3.txt"));
  ASSERT_EQ(list.reservations.size(), 4u);
  // The last reservation (http://*:2869/) is cut before its SDDL line.
  EXPECT_EQ(list.skipped, 1);

  const UrlReservation& wsd = list.reservations[0];
  EXPECT_EQ(wsd.url, "http://*:5357/");
  EXPECT_EQ(wsd.principals, (std::vector<UrlAclPrincipal>{
                                {"BUILTIN\\Users", "BU", "S-1-5-32-545", true, false},
                                {"NT AUTHORITY\\LOCAL SERVICE", "LS", "S-1-5-19", true, false}}));
  EXPECT_EQ(list.reservations[2].url, "https://*:5358/");
  EXPECT_EQ(list.reservations[3].url, "http://+:10247/apps/");
  EXPECT_EQ(list.reservations[3].principals,
            (std::vector<UrlAclPrincipal>{
                {"NT AUTHORITY\\Authenticated Users", "AU", "S-1-5-11", true, false}}));
}

TEST(ParseUrlAcl, ItalianCaptureHasTheSameStructureAsEnglish) {
  UrlAclList italian = MustParse(ReadWindowsFixture("netsh-urlacl-it-1.txt"));
  UrlAclList english = MustParse(ReadWindowsFixture("netsh-urlacl-en-2.txt"));
  ASSERT_EQ(italian.reservations.size(), 1u);
  EXPECT_EQ(italian.skipped, 0);
  const UrlReservation& it = italian.reservations[0];
  const UrlReservation& en = english.reservations[0];
  EXPECT_EQ(it.url, "http://*:8096/");
  EXPECT_EQ(it.sddl, en.sddl);
  EXPECT_EQ(it.principals, en.principals);
  ASSERT_EQ(it.principals.size(), 1u);
  EXPECT_EQ(it.principals.front().account, "\\Everyone");
}

TEST(ParseUrlAcl, DelegateRightsHexMasksAndCrlf) {
  UrlAclList list = MustParse(ReadWindowsFixture("netsh-urlacl-synth-delegate-crlf.txt"));
  ASSERT_EQ(list.reservations.size(), 3u);
  EXPECT_EQ(list.skipped, 0);
  EXPECT_EQ(list.reservations[1].url, "https://10.0.0.5:8443/api/");
  EXPECT_EQ(list.reservations[1].principals,
            (std::vector<UrlAclPrincipal>{
                {"CONTOSO\\svc-api", "S-1-5-21-1004336348-1177238915-682003330-1105",
                 "S-1-5-21-1004336348-1177238915-682003330-1105", true, true}}));
  EXPECT_EQ(list.reservations[2].principals,
            (std::vector<UrlAclPrincipal>{
                {"BUILTIN\\Administrators", "BA", "S-1-5-32-544", false, true},
                {"NT AUTHORITY\\NETWORK SERVICE", "NS", "S-1-5-20", true, false}}));
}

TEST(ParseUrlAcl, AccountCountMismatchKeepsPrincipalsWithoutNames) {
  UrlAclList list = MustParse(
      "    Reserved URL            : http://+:80/x/\n"
      "        User: \\Everyone\n"
      "            Listen: Yes\n"
      "            Delegate: No\n"
      "            SDDL: D:(A;;GX;;;WD)(A;;GX;;;BU)\n");
  ASSERT_EQ(list.reservations.size(), 1u);
  ASSERT_EQ(list.reservations[0].principals.size(), 2u);
  EXPECT_EQ(list.reservations[0].principals[0].account, "");
  EXPECT_EQ(list.reservations[0].principals[1].sid, "S-1-5-32-545");
}

TEST(ParseUrlAcl, PromptAfterTheOutputIsNotJoinedToTheSddl) {
  UrlAclList list =
      MustParse(WithCrlf("    Reserved URL            : http://+:80/x/\n"
                         "        User: \\Everyone\n"
                         "            Listen: Yes\n"
                         "            Delegate: No\n"
                         "            SDDL: D:(A;;GX;;;WD)\n"
                         "C:\\Users\\admin>\n"));
  ASSERT_EQ(list.reservations.size(), 1u);
  EXPECT_EQ(list.reservations[0].sddl, "D:(A;;GX;;;WD)");
}

TEST(ParseUrlAcl, MalformedReservationsAreSkippedAndCounted) {
  UrlAclList list = MustParse(
      "URL Reservations:\n-----------------\n\n"
      "    Reserved URL            : http://+:99999/port/\n"
      "        User: \\Everyone\n"
      "            SDDL: D:(A;;GX;;;WD)\n\n"
      "    Reserved URL            : http://+:81/bad-sddl/\n"
      "        User: \\Everyone\n"
      "            SDDL: D:(Q;;GX;;;WD)\n\n"
      "    Reserved URL            : http://+:82/ok/\n"
      "        User: \\Everyone\n"
      "            SDDL: D:(A;;GX;;;WD)\n\n"
      "    Reserved URL            : http://+:83/cut/\n"
      "        User: \\Everyone\n");
  ASSERT_EQ(list.reservations.size(), 1u);
  EXPECT_EQ(list.reservations[0].url, "http://+:82/ok/");
  EXPECT_EQ(list.skipped, 3);
}

TEST(ParseUrlAcl, EmptyListingIsNotAnError) {
  UrlAclList list = MustParse("\nURL Reservations:\n-----------------\n\n");
  EXPECT_TRUE(list.reservations.empty());
  EXPECT_EQ(list.skipped, 0);
}

TEST(ParseUrlAcl, UnrecognizableTextIsAnError) {
  Expected<UrlAclList> list = ParseUrlAcl("netsh http show urlacl\nAccess is denied.\n");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message.find("http:// or https://"), std::string::npos);
}

}  // namespace
}  // namespace portwarden::httpsys
