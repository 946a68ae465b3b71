#include "collectors/bindwatch/bind_event.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace portwarden {
namespace {

// One record as bindwatch.bpf.c writes it (host byte order, x86-64 and arm64 alike).
std::vector<uint8_t> Record(uint32_t kind, uint32_t pid, int32_t error, uint16_t family,
                            uint16_t port, std::vector<uint8_t> address, uint8_t protocol,
                            const char* comm) {
  std::vector<uint8_t> r(kBindRecordSize, 0);
  std::memcpy(&r[0], &kind, 4);
  std::memcpy(&r[4], &pid, 4);
  std::memcpy(&r[8], &error, 4);
  std::memcpy(&r[12], &family, 2);
  std::memcpy(&r[14], &port, 2);
  std::memcpy(&r[16], address.data(), address.size());
  r[32] = protocol;
  std::memcpy(&r[40], comm, std::min<size_t>(std::strlen(comm), 16));
  return r;
}

TEST(DecodeBindRecord, FailedIpv4Bind) {
  auto e = DecodeBindRecord(Record(1, 812, 98, 2, 80, {0, 0, 0, 0}, 6, "nginx"));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->kind, BindEvent::Kind::kBindFailed);
  EXPECT_EQ(e->caller.pid, 812u);
  EXPECT_EQ(e->caller.name, "nginx");
  EXPECT_EQ(e->error, 98);
  EXPECT_EQ(e->proto, Proto::kTcp);
  EXPECT_EQ(e->family, Family::kIpv4);
  EXPECT_EQ(e->address, "0.0.0.0");
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(ErrnoName(e->error), "EADDRINUSE");
  EXPECT_EQ(CallName(e->kind), "bind");
}

TEST(DecodeBindRecord, FailedIpv6ListenAndNewUdpListener) {
  std::vector<uint8_t> loopback(16, 0);
  loopback[15] = 1;
  auto e = DecodeBindRecord(Record(2, 7, 98, 10, 8443, loopback, 6, "apache2"));
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->kind, BindEvent::Kind::kListenFailed);
  EXPECT_EQ(e->address, "::1");
  EXPECT_EQ(e->family, Family::kIpv6);
  EXPECT_EQ(CallName(e->kind), "listen");

  auto u = DecodeBindRecord(Record(1, 9, 13, 2, 53, {127, 0, 0, 53}, 17, "dnsmasq"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->proto, Proto::kUdp);
  EXPECT_EQ(u->address, "127.0.0.53");
  EXPECT_EQ(ErrnoName(u->error), "EACCES");

  auto l = DecodeBindRecord(Record(3, 10, 0, 2, 9000, {10, 0, 0, 5}, 6, "a-sixteen-byte-n"));
  ASSERT_TRUE(l);
  EXPECT_EQ(l->kind, BindEvent::Kind::kListening);
  EXPECT_EQ(l->caller.name, "a-sixteen-byte-n");  // a full comm has no NUL: 16 bytes, no more
}

TEST(DecodeBindRecord, RejectsWhatItDoesNotKnow) {
  auto ok = Record(1, 1, 98, 2, 80, {0, 0, 0, 0}, 6, "x");
  std::vector<uint8_t> truncated(ok.begin(), ok.end() - 1);
  EXPECT_FALSE(DecodeBindRecord(truncated));
  EXPECT_FALSE(DecodeBindRecord({}));
  EXPECT_FALSE(DecodeBindRecord(Record(0, 1, 98, 2, 80, {0, 0, 0, 0}, 6, "x")));
  EXPECT_FALSE(DecodeBindRecord(Record(4, 1, 98, 2, 80, {0, 0, 0, 0}, 6, "x")));
  EXPECT_FALSE(DecodeBindRecord(Record(1, 1, 98, 1, 80, {0, 0, 0, 0}, 6, "x")));  // AF_UNIX
  auto sctp = DecodeBindRecord(Record(1, 1, 98, 2, 80, {0, 0, 0, 0}, 132, "x"));
  ASSERT_FALSE(sctp);
  EXPECT_NE(sctp.error().message.find("132"), std::string::npos);
  EXPECT_EQ(ErrnoName(99), "errno 99");
}

}  // namespace
}  // namespace portwarden
