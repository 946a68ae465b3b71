#include "collectors/listeners/win_tables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace portwarden {
namespace {

using ::testing::HasSubstr;

// Builds buffers the way the Windows SDK lays the structs out, field by field, so the
// decoder's offsets are checked against an independent transcription of the documented
// structs (see win_tables.cpp for the citations).
class Buffer {
 public:
  Buffer& Dword(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Buffer& Qword(uint64_t v) {
    Dword(static_cast<uint32_t>(v));
    return Dword(static_cast<uint32_t>(v >> 32));
  }
  // A port as Windows stores it: a network-order u_short in the first two bytes of a DWORD.
  // The other two bytes are documented as possibly uninitialised; fill them with junk.
  Buffer& Port(uint16_t port) {
    bytes_.push_back(static_cast<uint8_t>(port >> 8));
    bytes_.push_back(static_cast<uint8_t>(port));
    bytes_.push_back(0xde);
    bytes_.push_back(0xad);
    return *this;
  }
  Buffer& Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    bytes_.insert(bytes_.end(), {a, b, c, d});
    return *this;
  }
  Buffer& Ipv6(const std::array<uint8_t, 16>& address) {
    bytes_.insert(bytes_.end(), address.begin(), address.end());
    return *this;
  }
  // Compiler padding before an 8-byte member; offsets are from the buffer start, which is
  // where the (8-byte aligned) table starts.
  Buffer& AlignTo8() {
    while (bytes_.size() % 8 != 0) bytes_.push_back(0xcc);
    return *this;
  }
  // LARGE_INTEGER liCreateTimestamp, ULONGLONG OwningModuleInfo[16]: opaque, non-zero junk.
  Buffer& Timestamp() { return Qword(0x01d9'1234'5678'9abcULL); }
  Buffer& ModuleInfo() {
    for (int i = 0; i < 16; ++i) Qword(0xffee'ddcc'bbaa'0000ULL + i);
    return *this;
  }

  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

constexpr uint32_t kListen = 2;
constexpr uint32_t kEstablished = 5;
constexpr uint32_t kTimeWait = 11;

constexpr std::array<uint8_t, 16> kAny6{};
constexpr std::array<uint8_t, 16> kLoopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr std::array<uint8_t, 16> kLinkLocal6{0xfe, 0x80, 0,    0,    0,    0,    0,    0,
                                              0x02, 0x15, 0x5d, 0xff, 0xfe, 0x01, 0x02, 0x03};
constexpr std::array<uint8_t, 16> kDoc6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,    0,
                                        0,    0,    0,    0,    0, 0, 0x00, 0x50};

// Table header: DWORD dwNumEntries, then padding to 8 for the MODULE tables.
Buffer Header(uint32_t count, WinTableClass table_class) {
  Buffer b;
  b.Dword(count);
  if (table_class == WinTableClass::kOwnerModule) b.AlignTo8();
  return b;
}

// MIB_TCPROW_OWNER_PID / MIB_TCPROW_OWNER_MODULE.
void Tcp4Row(Buffer& b, WinTableClass table_class, uint32_t state, std::array<uint8_t, 4> local,
             uint16_t local_port, uint32_t pid) {
  b.Dword(state).Ipv4(local[0], local[1], local[2], local[3]).Port(local_port);
  b.Ipv4(10, 0, 0, 9).Port(50123);  // remote end, meaningless for listeners
  b.Dword(pid);
  if (table_class == WinTableClass::kOwnerModule) b.AlignTo8().Timestamp().ModuleInfo();
}

// MIB_TCP6ROW_OWNER_PID / MIB_TCP6ROW_OWNER_MODULE: addresses first, state near the end.
void Tcp6Row(Buffer& b, WinTableClass table_class, uint32_t state,
             const std::array<uint8_t, 16>& local, uint32_t scope, uint16_t local_port,
             uint32_t pid) {
  b.Ipv6(local).Dword(scope).Port(local_port);
  b.Ipv6(kDoc6).Dword(0).Port(50123);
  b.Dword(state).Dword(pid);
  if (table_class == WinTableClass::kOwnerModule) b.AlignTo8().Timestamp().ModuleInfo();
}

// MIB_UDPROW_OWNER_PID / MIB_UDPROW_OWNER_MODULE (flags int between timestamp and info).
void Udp4Row(Buffer& b, WinTableClass table_class, std::array<uint8_t, 4> local,
             uint16_t local_port, uint32_t pid) {
  b.Ipv4(local[0], local[1], local[2], local[3]).Port(local_port).Dword(pid);
  if (table_class == WinTableClass::kOwnerModule) {
    b.AlignTo8().Timestamp().Dword(1).AlignTo8().ModuleInfo();
  }
}

// MIB_UDP6ROW_OWNER_PID / MIB_UDP6ROW_OWNER_MODULE.
void Udp6Row(Buffer& b, WinTableClass table_class, const std::array<uint8_t, 16>& local,
             uint32_t scope, uint16_t local_port, uint32_t pid) {
  b.Ipv6(local).Dword(scope).Port(local_port).Dword(pid);
  if (table_class == WinTableClass::kOwnerModule) {
    b.AlignTo8().Timestamp().Dword(0).AlignTo8().ModuleInfo();
  }
}

// The hand-built rows have exactly the sizes the decoder assumes (and that the Windows
// build static_asserts against the SDK structs).
TEST(WinTables, RowSizesMatchTheDocumentedStructs) {
  for (auto table_class : {WinTableClass::kOwnerPid, WinTableClass::kOwnerModule}) {
    const bool pid = table_class == WinTableClass::kOwnerPid;
    Buffer tcp4, tcp6, udp4, udp6;
    Tcp4Row(tcp4, table_class, kListen, {0, 0, 0, 0}, 1, 1);
    Tcp6Row(tcp6, table_class, kListen, kAny6, 0, 1, 1);
    Udp4Row(udp4, table_class, {0, 0, 0, 0}, 1, 1);
    Udp6Row(udp6, table_class, kAny6, 0, 1, 1);
    EXPECT_EQ(tcp4.size(), pid ? kWinTcpRowOwnerPidSize : kWinTcpRowOwnerModuleSize);
    EXPECT_EQ(tcp6.size(), pid ? kWinTcp6RowOwnerPidSize : kWinTcp6RowOwnerModuleSize);
    EXPECT_EQ(udp4.size(), pid ? kWinUdpRowOwnerPidSize : kWinUdpRowOwnerModuleSize);
    EXPECT_EQ(udp6.size(), pid ? kWinUdp6RowOwnerPidSize : kWinUdp6RowOwnerModuleSize);
    EXPECT_EQ(Header(0, table_class).size(),
              pid ? kWinOwnerPidTableHeaderSize : kWinOwnerModuleTableHeaderSize);
  }
}

// Rows as on an IIS host (tests/fixtures/windows/netstat-ano-en-1-iis-pid4-full.txt):
// HTTP.sys holds 0.0.0.0:80 as PID 4, plus an established connection that must be dropped.
std::vector<uint8_t> IisTcp4Table(WinTableClass table_class) {
  Buffer b = Header(4, table_class);
  Tcp4Row(b, table_class, kListen, {0, 0, 0, 0}, 80, 4);
  Tcp4Row(b, table_class, kEstablished, {192, 168, 203, 248}, 3389, 364);
  Tcp4Row(b, table_class, kListen, {192, 168, 203, 248}, 139, 4);
  Tcp4Row(b, table_class, kListen, {127, 0, 0, 1}, 10061, 65540);
  return b.Take();
}

void ExpectIisTcp4(const Expected<std::vector<SocketEntry>>& got) {
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 3u);
  const auto& s = *got;
  EXPECT_EQ(s[0].proto, Proto::kTcp);
  EXPECT_EQ(s[0].family, Family::kIpv4);
  EXPECT_EQ(s[0].address, "0.0.0.0");
  EXPECT_EQ(s[0].port, 80);
  EXPECT_EQ(s[0].pid, 4u);
  EXPECT_EQ(s[1].address, "192.168.203.248");
  EXPECT_EQ(s[1].port, 139);
  EXPECT_EQ(s[1].pid, 4u);
  EXPECT_EQ(s[2].address, "127.0.0.1");
  EXPECT_EQ(s[2].port, 10061);
  EXPECT_EQ(s[2].pid, 65540u);
  EXPECT_EQ(s[2].inode, 0u);
  EXPECT_EQ(s[2].uid, 0u);
}

TEST(DecodeWinTcpTable, Ipv4OwnerPidKeepsListenRows) {
  ExpectIisTcp4(DecodeWinTcpTable(IisTcp4Table(WinTableClass::kOwnerPid), Family::kIpv4,
                                  WinTableClass::kOwnerPid));
}

TEST(DecodeWinTcpTable, Ipv4OwnerModuleSkipsPaddingTimestampAndModuleInfo) {
  ExpectIisTcp4(DecodeWinTcpTable(IisTcp4Table(WinTableClass::kOwnerModule), Family::kIpv4,
                                  WinTableClass::kOwnerModule));
}

std::vector<uint8_t> Tcp6Table(WinTableClass table_class) {
  Buffer b = Header(5, table_class);
  Tcp6Row(b, table_class, kListen, kAny6, 0, 80, 4);
  Tcp6Row(b, table_class, kTimeWait, kLoopback6, 0, 8080, 0);
  Tcp6Row(b, table_class, kListen, kLoopback6, 0, 47001, 4);
  Tcp6Row(b, table_class, kListen, kLinkLocal6, 0x0c000000, 5985, 1080);  // scope in net order
  Tcp6Row(b, table_class, kListen, kDoc6, 0, 65535, 0xfffffffc);
  return b.Take();
}

void ExpectTcp6(const Expected<std::vector<SocketEntry>>& got) {
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 4u);
  const auto& s = *got;
  EXPECT_EQ(s[0].proto, Proto::kTcp);
  EXPECT_EQ(s[0].family, Family::kIpv6);
  EXPECT_EQ(s[0].address, "::");
  EXPECT_EQ(s[0].port, 80);
  EXPECT_EQ(s[0].pid, 4u);
  EXPECT_EQ(s[1].address, "::1");
  EXPECT_EQ(s[1].port, 47001);
  EXPECT_EQ(s[2].address, "fe80::215:5dff:fe01:203");
  EXPECT_EQ(s[2].port, 5985);
  EXPECT_EQ(s[2].pid, 1080u);
  EXPECT_EQ(s[3].address, "2001:db8::50");
  EXPECT_EQ(s[3].port, 65535);
  EXPECT_EQ(s[3].pid, 0xfffffffcu);
}

TEST(DecodeWinTcpTable, Ipv6OwnerPidReadsItsOwnFieldOrder) {
  ExpectTcp6(DecodeWinTcpTable(Tcp6Table(WinTableClass::kOwnerPid), Family::kIpv6,
                               WinTableClass::kOwnerPid));
}

TEST(DecodeWinTcpTable, Ipv6OwnerModule) {
  ExpectTcp6(DecodeWinTcpTable(Tcp6Table(WinTableClass::kOwnerModule), Family::kIpv6,
                               WinTableClass::kOwnerModule));
}

std::vector<uint8_t> Udp4Table(WinTableClass table_class) {
  Buffer b = Header(3, table_class);
  Udp4Row(b, table_class, {0, 0, 0, 0}, 123, 1460);
  Udp4Row(b, table_class, {127, 0, 0, 1}, 53, 2172);
  Udp4Row(b, table_class, {10, 1, 2, 3}, 5353, 0);
  return b.Take();
}

void ExpectUdp4(const Expected<std::vector<SocketEntry>>& got) {
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 3u);  // no state in UDP rows: every one is kept
  const auto& s = *got;
  EXPECT_EQ(s[0].proto, Proto::kUdp);
  EXPECT_EQ(s[0].family, Family::kIpv4);
  EXPECT_EQ(s[0].address, "0.0.0.0");
  EXPECT_EQ(s[0].port, 123);
  EXPECT_EQ(s[0].pid, 1460u);
  EXPECT_EQ(s[1].address, "127.0.0.1");
  EXPECT_EQ(s[1].port, 53);
  EXPECT_EQ(s[1].pid, 2172u);
  EXPECT_EQ(s[2].address, "10.1.2.3");
  EXPECT_EQ(s[2].port, 5353);
  EXPECT_EQ(s[2].pid, 0u);
}

TEST(DecodeWinUdpTable, Ipv4OwnerPid) {
  ExpectUdp4(DecodeWinUdpTable(Udp4Table(WinTableClass::kOwnerPid), Family::kIpv4,
                               WinTableClass::kOwnerPid));
}

TEST(DecodeWinUdpTable, Ipv4OwnerModule) {
  ExpectUdp4(DecodeWinUdpTable(Udp4Table(WinTableClass::kOwnerModule), Family::kIpv4,
                               WinTableClass::kOwnerModule));
}

std::vector<uint8_t> Udp6Table(WinTableClass table_class) {
  Buffer b = Header(2, table_class);
  Udp6Row(b, table_class, kAny6, 0, 500, 1080);
  Udp6Row(b, table_class, kLinkLocal6, 0x0c000000, 546, 1708);
  return b.Take();
}

void ExpectUdp6(const Expected<std::vector<SocketEntry>>& got) {
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 2u);
  const auto& s = *got;
  EXPECT_EQ(s[0].proto, Proto::kUdp);
  EXPECT_EQ(s[0].family, Family::kIpv6);
  EXPECT_EQ(s[0].address, "::");
  EXPECT_EQ(s[0].port, 500);
  EXPECT_EQ(s[0].pid, 1080u);
  EXPECT_EQ(s[1].address, "fe80::215:5dff:fe01:203");
  EXPECT_EQ(s[1].port, 546);
  EXPECT_EQ(s[1].pid, 1708u);
}

TEST(DecodeWinUdpTable, Ipv6OwnerPid) {
  ExpectUdp6(DecodeWinUdpTable(Udp6Table(WinTableClass::kOwnerPid), Family::kIpv6,
                               WinTableClass::kOwnerPid));
}

TEST(DecodeWinUdpTable, Ipv6OwnerModule) {
  ExpectUdp6(DecodeWinUdpTable(Udp6Table(WinTableClass::kOwnerModule), Family::kIpv6,
                               WinTableClass::kOwnerModule));
}

TEST(WinTables, EmptyTables) {
  for (auto table_class : {WinTableClass::kOwnerPid, WinTableClass::kOwnerModule}) {
    const auto bytes = Header(0, table_class).Take();
    auto tcp = DecodeWinTcpTable(bytes, Family::kIpv6, table_class);
    ASSERT_TRUE(tcp) << tcp.error().message;
    EXPECT_TRUE(tcp->empty());
    auto udp = DecodeWinUdpTable(bytes, Family::kIpv4, table_class);
    ASSERT_TRUE(udp) << udp.error().message;
    EXPECT_TRUE(udp->empty());
  }
}

// The caller may pass its whole allocation: Windows reports the bytes it used, but a table
// that shrank between the sizing call and the real one leaves unused bytes at the end.
TEST(WinTables, IgnoresBytesAfterTheLastRow) {
  auto bytes = IisTcp4Table(WinTableClass::kOwnerPid);
  bytes.resize(bytes.size() + 1000, 0x5a);
  ExpectIisTcp4(DecodeWinTcpTable(bytes, Family::kIpv4, WinTableClass::kOwnerPid));
}

// The API's buffer is aligned, but a copy handed to the decoder need not be.
TEST(WinTables, DecodesAnUnalignedBuffer) {
  const auto table = Tcp6Table(WinTableClass::kOwnerModule);
  std::vector<uint8_t> shifted(1, 0);
  shifted.insert(shifted.end(), table.begin(), table.end());
  ExpectTcp6(DecodeWinTcpTable(std::span<const uint8_t>(shifted).subspan(1), Family::kIpv6,
                               WinTableClass::kOwnerModule));
}

TEST(WinTables, BufferShorterThanHeaderIsAnError) {
  const std::vector<uint8_t> three_bytes{1, 0, 0};
  auto tcp = DecodeWinTcpTable(three_bytes, Family::kIpv4, WinTableClass::kOwnerPid);
  ASSERT_FALSE(tcp);
  EXPECT_THAT(tcp.error().message, HasSubstr("GetExtendedTcpTable (MIB_TCPTABLE_OWNER_PID)"));
  EXPECT_THAT(tcp.error().message, HasSubstr("3 bytes is shorter than the 4-byte table header"));

  auto empty = DecodeWinUdpTable({}, Family::kIpv6, WinTableClass::kOwnerPid);
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message, HasSubstr("MIB_UDP6TABLE_OWNER_PID"));

  // A MODULE table's header includes the 4 bytes of padding before the 8-aligned rows.
  const std::vector<uint8_t> count_only{0, 0, 0, 0, 0};
  auto module = DecodeWinUdpTable(count_only, Family::kIpv4, WinTableClass::kOwnerModule);
  ASSERT_FALSE(module);
  EXPECT_THAT(module.error().message, HasSubstr("5 bytes is shorter than the 8-byte table header"));
}

TEST(WinTables, TruncatedLastRowIsAnError) {
  const auto bytes = Tcp6Table(WinTableClass::kOwnerPid);  // 5 rows of 56 bytes
  auto got = DecodeWinTcpTable(std::span(bytes).first(bytes.size() - 10), Family::kIpv6,
                               WinTableClass::kOwnerPid);
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("MIB_TCP6TABLE_OWNER_PID"));
  EXPECT_THAT(got.error().message, HasSubstr("row 5 of 5 is truncated: 46 of 56 bytes"));
}

TEST(WinTables, AbsurdEntryCountIsAnError) {
  Buffer b = Header(0xffffffff, WinTableClass::kOwnerModule);
  Udp4Row(b, WinTableClass::kOwnerModule, {0, 0, 0, 0}, 53, 1);
  auto got = DecodeWinUdpTable(b.bytes(), Family::kIpv4, WinTableClass::kOwnerModule);
  ASSERT_FALSE(got);
  EXPECT_THAT(got.error().message, HasSubstr("MIB_UDPTABLE_OWNER_MODULE"));
  EXPECT_THAT(got.error().message, HasSubstr("dwNumEntries 4294967295 does not fit the buffer"));
  EXPECT_THAT(got.error().message, HasSubstr("160 bytes after the header hold at most 1 rows"));

  // Two rows missing, not one cut short: a wrong count rather than a truncation.
  Buffer whole = Header(3, WinTableClass::kOwnerPid);
  Tcp4Row(whole, WinTableClass::kOwnerPid, kListen, {0, 0, 0, 0}, 80, 4);
  auto short_by_two = DecodeWinTcpTable(whole.bytes(), Family::kIpv4, WinTableClass::kOwnerPid);
  ASSERT_FALSE(short_by_two);
  EXPECT_THAT(short_by_two.error().message, HasSubstr("dwNumEntries 3 does not fit"));
}

// Every prefix of a valid table either decodes or fails cleanly; run under ASan/UBSan this
// also shows no read past the end.
TEST(WinTables, EveryPrefixOfAValidTableIsHandled) {
  for (auto table_class : {WinTableClass::kOwnerPid, WinTableClass::kOwnerModule}) {
    const auto tcp = Tcp6Table(table_class);
    for (size_t n = 0; n <= tcp.size(); ++n) {
      auto got = DecodeWinTcpTable(std::span(tcp).first(n), Family::kIpv6, table_class);
      EXPECT_EQ(got.ok(), n == tcp.size()) << "prefix " << n;
    }
    const auto udp = Udp4Table(table_class);
    for (size_t n = 0; n <= udp.size(); ++n) {
      auto got = DecodeWinUdpTable(std::span(udp).first(n), Family::kIpv4, table_class);
      EXPECT_EQ(got.ok(), n == udp.size()) << "prefix " << n;
    }
  }
}

}  // namespace
}  // namespace portwarden
