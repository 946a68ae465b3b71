// The HTTP service's registry values: REG_MULTI_SZ listen lists and the binary security
// descriptors of UrlAclInfo, synthesized byte by byte (winnt.h layouts).

#include "collectors/httpsys/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/httpsys/fake_platform.h"

namespace portwarden::httpsys {
namespace {

using ::testing::HasSubstr;
using testing::MultiSz;

void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void Put32(std::vector<uint8_t>& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v));
  Put16(out, static_cast<uint16_t>(v >> 16));
}

/// SID: revision 1, sub-authority count, 48-bit big-endian authority, sub-authorities.
std::vector<uint8_t> Sid(uint64_t authority, const std::vector<uint32_t>& subs) {
  std::vector<uint8_t> out = {1, static_cast<uint8_t>(subs.size())};
  for (int i = 5; i >= 0; --i) out.push_back(static_cast<uint8_t>(authority >> (8 * i)));
  for (uint32_t s : subs) Put32(out, s);
  return out;
}

/// ACE_HEADER {type, flags, size} + mask + SID.
std::vector<uint8_t> Ace(uint8_t type, uint8_t flags, uint32_t mask,
                         const std::vector<uint8_t>& sid) {
  std::vector<uint8_t> out = {type, flags};
  Put16(out, static_cast<uint16_t>(8 + sid.size()));
  Put32(out, mask);
  out.insert(out.end(), sid.begin(), sid.end());
  return out;
}

/// SECURITY_DESCRIPTOR_RELATIVE with no owner/group/SACL and the DACL right after the header.
std::vector<uint8_t> Descriptor(const std::vector<std::vector<uint8_t>>& aces,
                                uint16_t control = 0x8004) {
  std::vector<uint8_t> acl;
  for (const auto& a : aces) acl.insert(acl.end(), a.begin(), a.end());
  std::vector<uint8_t> out = {1, 0};
  Put16(out, control);
  Put32(out, 0);   // owner
  Put32(out, 0);   // group
  Put32(out, 0);   // SACL
  Put32(out, 20);  // DACL
  out.insert(out.end(), {2, 0});
  Put16(out, static_cast<uint16_t>(8 + acl.size()));
  Put16(out, static_cast<uint16_t>(aces.size()));
  Put16(out, 0);
  out.insert(out.end(), acl.begin(), acl.end());
  return out;
}

constexpr uint32_t kGenericExecute = 0x20000000;
constexpr uint32_t kGenericAll = 0x10000000;
const std::vector<uint8_t> kEveryone = Sid(1, {0});
const std::vector<uint8_t> kNetworkService = Sid(5, {20});

TEST(DecodeMultiSz, StringsTerminatorsAndDamage) {
  EXPECT_EQ(DecodeMultiSz(MultiSz({"10.0.0.5", "::"})),
            (std::vector<std::string>{"10.0.0.5", "::"}));
  std::vector<uint8_t> no_final = MultiSz({"a", "b"});
  no_final.resize(no_final.size() - 2);
  EXPECT_EQ(DecodeMultiSz(no_final), (std::vector<std::string>{"a", "b"}));
  no_final.resize(no_final.size() - 2);  // "b" without its own terminator either
  EXPECT_EQ(DecodeMultiSz(no_final), (std::vector<std::string>{"a", "b"}));
  no_final.push_back('x');  // odd trailing byte
  EXPECT_EQ(DecodeMultiSz(no_final), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(DecodeMultiSz({}).empty());
  EXPECT_TRUE(DecodeMultiSz(MultiSz({})).empty());
  // An empty string inside ends the list, as for Windows' own readers.
  EXPECT_EQ(DecodeMultiSz(MultiSz({"a", "", "c"})), (std::vector<std::string>{"a"}));
}

TEST(DecodeListenOnlyList, AddressesCanonicalAndJunkSkipped) {
  auto list = DecodeListenOnlyList(
      kRegMultiSz, MultiSz({"10.0.0.5", " 172.16.1.1 ", "0::0", "[fe80::1]", "10.0.0.6:80",
                            "[::1]:443", "not-an-ip", "10.0.0.300", "1:2"}));
  ASSERT_TRUE(list.ok()) << list.error().message;
  std::vector<std::string> got;
  for (const auto& e : list->entries) got.push_back(e.address);
  EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.5", "172.16.1.1", "::", "fe80::1", "10.0.0.6",
                                           "::1"}));
  EXPECT_EQ(list->skipped, 3);
}

TEST(DecodeListenOnlyList, RegSzAndWrongType) {
  std::vector<uint8_t> one = MultiSz({"10.0.0.5"});
  one.resize(one.size() - 2);
  auto list = DecodeListenOnlyList(kRegSz, one);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->entries.size(), 1u);
  EXPECT_EQ(DecodeListenOnlyList(kRegBinary, one).error().message,
            "ListenOnlyList: value type 3, expected REG_MULTI_SZ (7)");
}

TEST(SecurityDescriptorToSddl, AllowAndDenyAcesFlagsAndMasks) {
  auto sddl = SecurityDescriptorToSddl(Descriptor({
      Ace(0, 0, kGenericExecute, kEveryone),
      Ace(0, 0x03, kGenericAll, kNetworkService),
      Ace(0, 0, kGenericExecute | 0x40000000, Sid(5, {21, 1, 2, 3, 1001})),
      Ace(0, 0x10, 0x001f01ff, Sid(0x123456789abcULL, {7})),
      Ace(1, 0, kGenericExecute, Sid(5, {7})),
  }));
  ASSERT_TRUE(sddl.ok()) << sddl.error().message;
  EXPECT_EQ(*sddl,
            "D:(A;;GX;;;S-1-1-0)(A;OICI;GA;;;S-1-5-20)(A;;GXGW;;;S-1-5-21-1-2-3-1001)"
            "(A;ID;0x1f01ff;;;S-1-0x123456789ABC-7)(D;;GX;;;S-1-5-7)");
}

TEST(SecurityDescriptorToSddl, DamagedDescriptors) {
  const auto message = [](std::vector<uint8_t> sd) {
    auto sddl = SecurityDescriptorToSddl(sd);
    return sddl.ok() ? "decoded: " + *sddl : sddl.error().message;
  };
  const std::vector<uint8_t> good = Descriptor({Ace(0, 0, kGenericExecute, kEveryone)});
  EXPECT_THAT(message({1, 0, 4}), HasSubstr("shorter than its header"));
  auto bad_revision = good;
  bad_revision[0] = 2;
  EXPECT_THAT(message(bad_revision), HasSubstr("revision 2, expected 1"));
  EXPECT_THAT(message(Descriptor({Ace(0, 0, kGenericExecute, kEveryone)}, 0x0004)),
              HasSubstr("not self-relative"));
  EXPECT_THAT(message(Descriptor({}, 0x8000)), HasSubstr("no DACL"));
  auto far_dacl = good;
  far_dacl[16] = 200;
  EXPECT_THAT(message(far_dacl), HasSubstr("DACL offset 200 outside the descriptor"));
  auto big_acl = good;
  big_acl[22] = 0xff;
  EXPECT_THAT(message(big_acl), HasSubstr("DACL size"));
  auto absurd_count = good;
  absurd_count[24] = 0xff;
  absurd_count[25] = 0xff;
  EXPECT_THAT(message(absurd_count), HasSubstr("ACE 1 of 65535 outside the DACL"));
  auto big_ace = good;
  big_ace[30] = 0x40;  // AceSize past the ACL
  EXPECT_THAT(message(big_ace), HasSubstr("ACE 0 has size 64"));
  EXPECT_THAT(message(Descriptor({Ace(2, 0, 0, kEveryone)})), HasSubstr("ACE type 2"));
  auto many_subs = Sid(5, {1});
  many_subs[1] = 16;
  EXPECT_THAT(message(Descriptor({Ace(0, 0, kGenericExecute, many_subs)})),
              HasSubstr("16 sub-authorities"));
  auto cut_sid = Sid(5, {1, 2});
  cut_sid[1] = 3;  // claims three, holds two
  EXPECT_THAT(message(Descriptor({Ace(0, 0, kGenericExecute, cut_sid)})),
              HasSubstr("SID cut short"));
}

TEST(DecodeUrlAclValue, BinaryAndTextValues) {
  auto binary = DecodeUrlAclValue("http://+:80/Temporary_Listen_Addresses/", kRegBinary,
                                  Descriptor({Ace(0, 0, kGenericExecute, kEveryone)}));
  ASSERT_TRUE(binary.ok()) << binary.error().message;
  EXPECT_EQ(binary->sddl, "D:(A;;GX;;;S-1-1-0)");
  ASSERT_EQ(binary->principals.size(), 1u);
  EXPECT_EQ(binary->principals[0].sid, "S-1-1-0");
  EXPECT_TRUE(binary->principals[0].listen);

  std::vector<uint8_t> text = MultiSz({"D:(A;;GA;;;NS)"});
  auto sz = DecodeUrlAclValue("http://+:5985/wsman/", kRegSz, text);
  ASSERT_TRUE(sz.ok()) << sz.error().message;
  EXPECT_EQ(sz->principals[0].sid, "S-1-5-20");
  EXPECT_TRUE(sz->principals[0].delegate);

  EXPECT_EQ(DecodeUrlAclValue("http://+:1/", 4, {}).error().message,
            "UrlAclInfo \"http://+:1/\": value type 4, expected REG_BINARY (3)");
  EXPECT_THAT(
      DecodeUrlAclValue("http://+:1/", kRegBinary, std::vector<uint8_t>{1, 0}).error().message,
      HasSubstr("UrlAclInfo \"http://+:1/\": security descriptor:"));
  EXPECT_THAT(DecodeUrlAclValue("http://+:1/", kRegBinary,
                                Descriptor({Ace(1, 0, kGenericExecute, kEveryone)}))
                  .error()
                  .message,
              HasSubstr("ACE type \"D\" is not supported"));
}

}  // namespace
}  // namespace portwarden::httpsys
