// The binary decoders over damaged input: every synthesized record cut at every byte, and
// deterministic random byte mutations of it, decoded at its real base address. They must
// return (a value or an Error) without crashing or reading out of bounds; run under
// AddressSanitizer/UBSan (scripts/test-sanitizers.sh) to make the latter visible.

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "collectors/httpsys/http_config.h"
#include "collectors/httpsys/registry.h"
#include "tests/unit/httpsys/fake_platform.h"

namespace portwarden::httpsys {
namespace {

using testing::Record;

constexpr uint64_t kBase = 0x10000;

const std::vector<uint8_t> kDescriptor = {1, 0, 0x04, 0x80, 0,  0, 0, 0,    0, 0, 0, 0,
                                          0, 0, 0,    0,    20, 0, 0, 0,                  // header
                                          2, 0, 28,   0,    1,  0, 0, 0,                  // ACL
                                          0, 0, 20,   0,    0,  0, 0, 0x20,               // ACE
                                          1, 1, 0,    0,    0,  0, 0, 1,    0, 0, 0, 0};  // S-1-1-0

/// Every decoder on `bytes`; each result must be a value or an Error with a message.
void DecodeEverything(const std::vector<uint8_t>& bytes) {
  auto check = [](const auto& result) {
    if (!result.ok()) {
      EXPECT_FALSE(result.error().message.empty());
    }
  };
  const ConfigRecord record{bytes, kBase};
  check(DecodeIpListenQuery(bytes));
  check(DecodeUrlAclSet(record));
  check(DecodeSslSet(record));
  check(DecodeSslSniSet(record));
  check(DecodeSslCcsSet(record));
  check(SecurityDescriptorToSddl(bytes));
  check(DecodeUrlAclValue("http://+:80/", kRegBinary, bytes));
  check(DecodeListenOnlyList(kRegMultiSz, bytes));
}

std::vector<std::vector<uint8_t>> Samples() {
  return {
      testing::IpListenQuery({testing::SockaddrV4({10, 0, 0, 5}, 0), testing::SockaddrV6({}, 0)})
          .At(kBase),
      testing::UrlAclSet(u"http://+:80/Temporary_Listen_Addresses/", u"D:(A;;GX;;;WD)").At(kBase),
      testing::SslSet(testing::SockaddrV6({}, 443)).At(kBase),
      testing::SslSniSet(u"www.contoso.com", 443).At(kBase),
      testing::SslCcsSet(443).At(kBase),
      kDescriptor,
      testing::MultiSz({"10.0.0.5", "[::1]:80"}),
  };
}

TEST(BinaryRobustness, EveryPrefixOfEverySample) {
  for (const auto& sample : Samples()) {
    for (size_t length = 0; length <= sample.size(); ++length) {
      DecodeEverything(std::vector<uint8_t>(sample.begin(), sample.begin() + length));
    }
  }
}

TEST(BinaryRobustness, RandomMutationsOfEverySample) {
  // Bytes that steer the decoders: zero, all ones, small counts, the base address' bytes
  // (so mutated pointers often land inside the buffer), and family numbers.
  const std::vector<uint8_t> kInteresting = {0, 1, 2, 8, 23, 0x80, 0xff, 0x01, 0x00};
  std::mt19937 rng(20240511);
  for (const auto& sample : Samples()) {
    for (int round = 0; round < 2000; ++round) {
      std::vector<uint8_t> bytes = sample;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !bytes.empty(); ++e) {
        size_t at = rng() % bytes.size();
        bytes[at] =
            rng() % 2 ? kInteresting[rng() % kInteresting.size()] : static_cast<uint8_t>(rng());
      }
      DecodeEverything(bytes);
    }
  }
}

}  // namespace
}  // namespace portwarden::httpsys
