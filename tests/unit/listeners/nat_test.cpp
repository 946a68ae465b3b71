// nf_tables rule dumps: the destination NAT forwards a namespace's rules publish, from a
// real dump (tests/fixtures/linux/nftables/README.md tells how it was made), and bad input.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "collectors/listeners/nat.h"
#include "tests/unit/listeners/test_util.h"

namespace portwarden {
namespace {

std::vector<uint8_t> Fixture() {
  std::string text = testing::ReadFixture("linux/nftables/rule-dump.bin");
  return {text.begin(), text.end()};
}

NatForward Forward(Proto proto, Family family, std::string address, uint16_t port,
                   std::string to_address, uint16_t to_port) {
  return {proto, family, std::move(address), port, std::move(to_address), to_port};
}

TEST(NftRuleDump, RealDumpYieldsEveryFixedPortForward) {
  std::vector<uint8_t> dump = Fixture();
  ASSERT_FALSE(dump.empty());
  auto batch = DecodeNftRuleDump(dump);
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(batch->rules, 14u);
  EXPECT_FALSE(batch->done);  // NLMSG_DONE came in the next datagram
  using P = Proto;
  using F = Family;
  // Left out: `! --dport 8082`, `-d 10.0.0.0/8` (a prefix), `--dport 8084:8085` (a range),
  // `dport {1, 2}` (a set), and the jump to DOCKER (no DNAT of its own).
  EXPECT_EQ(batch->forwards, (std::vector<NatForward>{
                                 Forward(P::kTcp, F::kIpv4, "127.0.0.1", 8080, "10.0.0.2", 80),
                                 Forward(P::kTcp, F::kIpv4, "", 8081, "172.17.0.2", 80),
                                 Forward(P::kUdp, F::kIpv4, "", 5300, "172.17.0.3", 5300),
                                 Forward(P::kTcp, F::kIpv6, "", 8086, "fd00::2", 80),
                                 Forward(P::kTcp, F::kIpv4, "", 8090, "10.0.0.4", 80),
                                 Forward(P::kUdp, F::kIpv4, "127.0.0.2", 5353, "10.0.0.5", 5353),
                                 Forward(P::kTcp, F::kIpv4, "", 8093, "10.0.0.8", 8093),
                                 Forward(P::kTcp, F::kIpv4, "", 8091, "10.0.0.7", 80),
                                 Forward(P::kTcp, F::kIpv6, "", 8092, "fd00::3", 80),
                             }));
}

TEST(NftRuleDump, EveryTruncationIsAnErrorOrFewerRulesNeverACrash) {
  std::vector<uint8_t> dump = Fixture();
  ASSERT_FALSE(dump.empty());
  size_t errors = 0;
  for (size_t n = 1; n < dump.size(); ++n) {
    auto batch = DecodeNftRuleDump(std::span<const uint8_t>(dump.data(), n));
    if (!batch) {
      ++errors;
      EXPECT_NE(batch.error().message.find("netlink"), std::string::npos);
    } else {
      EXPECT_LT(batch->rules, 14u) << n;  // only whole messages count
    }
  }
  EXPECT_GT(errors, 0u);
}

TEST(NftRuleDump, KernelErrorIsReported) {
  // NLMSG_ERROR with -EPERM: no CAP_NET_ADMIN in the namespace.
  std::vector<uint8_t> msg(36, 0);
  uint32_t len = 36;
  uint16_t type = 2;
  int32_t err = -1;
  std::memcpy(msg.data(), &len, 4);
  std::memcpy(msg.data() + 4, &type, 2);
  std::memcpy(msg.data() + 16, &err, 4);
  auto batch = DecodeNftRuleDump(msg);
  ASSERT_FALSE(batch);
  EXPECT_NE(batch.error().message.find("error 1"), std::string::npos) << batch.error().message;
  auto gen = DecodeNftGen(msg);
  ASSERT_FALSE(gen);
}

TEST(NftGen, ReadsTheGenerationId) {
  // NFT_MSG_NEWGEN: nlmsghdr, nfgenmsg, NFTA_GEN_ID (be32 0x01020304).
  std::vector<uint8_t> msg = {28, 0, 0, 0, 15, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                              0,  0, 0, 0, 8,  0,  1, 0, 1, 2, 3, 4};
  auto gen = DecodeNftGen(msg);
  ASSERT_TRUE(gen) << gen.error().message;
  EXPECT_EQ(*gen, 0x01020304u);
  msg.resize(20);  // without the attribute
  msg[0] = 20;
  EXPECT_FALSE(DecodeNftGen(msg));
}

TEST(NftRequests, AskForEveryFamily) {
  auto rules = BuildNftRuleRequest(7);
  ASSERT_EQ(rules.size(), 20u);
  EXPECT_EQ(rules[4] | rules[5] << 8, 10 << 8 | 7);  // NFNL_SUBSYS_NFTABLES, NFT_MSG_GETRULE
  EXPECT_EQ(rules[6] | rules[7] << 8, 0x301);         // NLM_F_REQUEST | NLM_F_DUMP
  EXPECT_EQ(rules[16], 0);                            // AF_UNSPEC
  auto gen = BuildNftGenRequest(8);
  EXPECT_EQ(gen[4] | gen[5] << 8, 10 << 8 | 16);      // NFT_MSG_GETGEN
  EXPECT_EQ(gen[6] | gen[7] << 8, 0x1);
}

}  // namespace
}  // namespace portwarden
