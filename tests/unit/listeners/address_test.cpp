#include "collectors/listeners/address.h"

#include <gtest/gtest.h>

namespace portwarden {
namespace {

TEST(FormatIpv4, DottedQuad) {
  const uint8_t a[4] = {10, 0, 0, 5};
  EXPECT_EQ(FormatIpv4(a), "10.0.0.5");
}

struct V6Case {
  std::array<uint8_t, 16> bytes;
  const char* text;
};

TEST(FormatIpv6, Rfc5952Forms) {
  const V6Case cases[] = {
      {{}, "::"},
      {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
      {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "fe80::1"},
      {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:db8:0:1::1"},
      {{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, "2001:db8:1:0:1::1"},
      {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 5}, "::ffff:10.0.0.5"},
      {{0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5},
       "2001:db8:abcd:1:2:3:4:5"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatIpv6(c.bytes.data()), c.text);
}

}  // namespace
}  // namespace portwarden
