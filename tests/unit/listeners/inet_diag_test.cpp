#include "collectors/listeners/inet_diag.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

namespace portwarden {
namespace {

// Builds netlink datagrams byte by byte in the kernel's layout (host byte order for
// netlink fields, network order for ports and addresses), independent of the decoder.
class Datagram {
 public:
  void Put16(uint16_t v) { Put(&v, 2); }
  void Put32(uint32_t v) { Put(&v, 4); }
  void Put(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  void Header(uint32_t len, uint16_t type) {
    Put32(len);
    Put16(type);
    Put16(2);  // NLM_F_MULTI
    Put32(1);
    Put32(0);
  }
  // One SOCK_DIAG_BY_FAMILY message: nlmsghdr + inet_diag_msg (+ SKV6ONLY attribute).
  void Socket(uint8_t family, uint16_t port, std::array<uint8_t, 16> src, uint32_t inode,
              uint32_t uid, std::optional<uint8_t> v6only = std::nullopt) {
    uint32_t len = 16 + 72 + (v6only ? 8 : 0);
    Header(len, 20);
    uint8_t head[4] = {family, 10, 0, 0};
    Put(head, 4);
    uint8_t sport[2] = {uint8_t(port >> 8), uint8_t(port & 0xff)};
    Put(sport, 2);
    Put16(0);                    // dport
    Put(src.data(), 16);         // src
    uint8_t dst[16] = {};
    Put(dst, 16);
    Put32(0);                    // if
    Put32(0xdeadbeef);           // cookie[0]
    Put32(0x1);                  // cookie[1]
    Put32(0);                    // expires
    Put32(0);                    // rqueue
    Put32(128);                  // wqueue
    Put32(uid);
    Put32(inode);
    if (v6only) {
      Put16(5);   // rta_len: header + 1 byte
      Put16(11);  // INET_DIAG_SKV6ONLY
      uint8_t v[4] = {*v6only, 0, 0, 0};  // value + padding to 4
      Put(v, 4);
    }
  }
  void Done() {
    Header(20, 3);
    Put32(0);
  }
  std::vector<uint8_t> bytes;
};

TEST(InetDiag, RequestAsksOnlyForListeningState) {
  auto req = BuildInetDiagRequest(Proto::kTcp, Family::kIpv6, 7);
  ASSERT_EQ(req.size(), 16u + 56u);
  uint32_t len, seq, states;
  uint16_t type;
  std::memcpy(&len, req.data(), 4);
  std::memcpy(&type, req.data() + 4, 2);
  std::memcpy(&seq, req.data() + 8, 4);
  std::memcpy(&states, req.data() + 16 + 4, 4);
  EXPECT_EQ(len, 72u);
  EXPECT_EQ(type, 20);
  EXPECT_EQ(seq, 7u);
  EXPECT_EQ(req[16], 10);  // AF_INET6
  EXPECT_EQ(req[17], 6);   // IPPROTO_TCP
  EXPECT_EQ(states, 1u << 10);
  auto udp = BuildInetDiagRequest(Proto::kUdp, Family::kIpv4, 1);
  std::memcpy(&states, udp.data() + 16 + 4, 4);
  EXPECT_EQ(udp[16], 2);
  EXPECT_EQ(udp[17], 17);
  EXPECT_EQ(states, 1u << 7);
}

TEST(InetDiag, DecodesIpv4AndIpv6WithV6Only) {
  Datagram d;
  d.Socket(2, 8080, {127, 0, 0, 1}, 4242, 1000);
  std::array<uint8_t, 16> any{};
  d.Socket(10, 443, any, 4343, 0, uint8_t{1});
  std::array<uint8_t, 16> loop{};
  loop[15] = 1;
  d.Socket(10, 9000, loop, 4444, 33, uint8_t{0});
  d.Done();
  auto batch = DecodeInetDiag(d.bytes, Proto::kTcp);
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_TRUE(batch->done);
  ASSERT_EQ(batch->sockets.size(), 3u);
  EXPECT_EQ(batch->sockets[0].address, "127.0.0.1");
  EXPECT_EQ(batch->sockets[0].port, 8080);
  EXPECT_EQ(batch->sockets[0].inode, 4242u);
  EXPECT_EQ(batch->sockets[0].uid, 1000u);
  EXPECT_EQ(batch->sockets[0].cookie, 0x1deadbeefull);
  EXPECT_EQ(batch->sockets[0].family, Family::kIpv4);
  EXPECT_FALSE(batch->sockets[0].v6only);
  EXPECT_EQ(batch->sockets[1].address, "::");
  EXPECT_EQ(batch->sockets[1].family, Family::kIpv6);
  EXPECT_TRUE(batch->sockets[1].v6only);
  EXPECT_EQ(batch->sockets[2].address, "::1");
  EXPECT_FALSE(batch->sockets[2].v6only);
}

TEST(InetDiag, BatchWithoutDoneIsNotDone) {
  Datagram d;
  d.Socket(2, 53, {0, 0, 0, 0}, 1, 0);
  auto batch = DecodeInetDiag(d.bytes, Proto::kUdp);
  ASSERT_TRUE(batch);
  EXPECT_FALSE(batch->done);
  EXPECT_EQ(batch->sockets[0].proto, Proto::kUdp);
}

TEST(InetDiag, KernelErrorIsReported) {
  Datagram d;
  d.Header(20, 2);
  d.Put32(static_cast<uint32_t>(-1));  // -EPERM
  auto batch = DecodeInetDiag(d.bytes, Proto::kTcp);
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().message, "netlink: kernel answered error 1");
}

TEST(InetDiag, TruncatedRecordIsAnError) {
  Datagram d;
  d.Socket(2, 80, {}, 1, 0);
  auto cut = d.bytes;
  cut.resize(40);
  // Header claims 88 bytes but only 40 arrived.
  auto batch = DecodeInetDiag(cut, Proto::kTcp);
  ASSERT_FALSE(batch);
  EXPECT_NE(batch.error().message.find("does not fit"), std::string::npos);

  Datagram short_msg;
  short_msg.Header(16 + 20, 20);
  for (int i = 0; i < 5; ++i) short_msg.Put32(0);
  batch = DecodeInetDiag(short_msg.bytes, Proto::kTcp);
  ASSERT_FALSE(batch);
  EXPECT_NE(batch.error().message.find("truncated"), std::string::npos);
}

TEST(InetDiag, BadHeaderAndAbsurdLength) {
  std::vector<uint8_t> tiny = {1, 2, 3};
  EXPECT_FALSE(DecodeInetDiag(tiny, Proto::kTcp));
  Datagram absurd;
  absurd.Header(0xffffffffu, 20);
  EXPECT_FALSE(DecodeInetDiag(absurd.bytes, Proto::kTcp));
  Datagram zero;
  zero.Header(0, 20);  // a zero length would loop forever if accepted
  EXPECT_FALSE(DecodeInetDiag(zero.bytes, Proto::kTcp));
  Datagram family;
  family.Socket(99, 80, {}, 1, 0);
  auto batch = DecodeInetDiag(family.bytes, Proto::kTcp);
  ASSERT_FALSE(batch);
  EXPECT_NE(batch.error().message.find("family 99"), std::string::npos);
}

TEST(InetDiag, MalformedAttributeDoesNotOverrun) {
  Datagram d;
  d.Socket(10, 80, {}, 1, 0, uint8_t{1});
  // Corrupt the attribute length to claim more than the message holds.
  d.bytes[16 + 72] = 200;
  auto batch = DecodeInetDiag(d.bytes, Proto::kTcp);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->sockets.size(), 1u);
  EXPECT_FALSE(batch->sockets[0].v6only);
}

}  // namespace
}  // namespace portwarden
