#include "collectors/httpsys/netstat_parse.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/httpsys/netsh_parse.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::httpsys {
namespace {

using testing::ReadWindowsFixture;
using testing::WithCrlf;
using testing::WithUtf16LeBom;

const char kCapture[] = "netstat-ano-en-1-iis-pid4-full.txt";

NetstatTable MustParse(const std::string& text) {
  Expected<NetstatTable> table = ParseNetstat(text);
  EXPECT_TRUE(table.ok()) << table.error().message;
  return table.ok() ? *table : NetstatTable{};
}

// "proto address:port" of a row, for comparing sets of rows in one line.
std::string Key(const NetstatRow& row) {
  std::string address = row.family == Family::kIpv6 ? "[" + row.address + "]" : row.address;
  return std::string(ToString(row.proto)) + " " + address + ":" + std::to_string(row.port);
}

TEST(ParseNetstat, RealCaptureEveryRow) {
  NetstatTable table = MustParse(ReadWindowsFixture(kCapture));
  EXPECT_EQ(table.skipped, 0);
  ASSERT_EQ(table.rows.size(), 48u);
  int tcp = 0, udp = 0, ipv6 = 0;
  for (const NetstatRow& row : table.rows) {
    (row.proto == Proto::kTcp ? tcp : udp)++;
    ipv6 += row.family == Family::kIpv6;
  }
  EXPECT_EQ(tcp, 31);
  EXPECT_EQ(udp, 17);
  EXPECT_EQ(ipv6, 20);

  // The first row: HTTP.sys's bind of 0.0.0.0:80, owned by PID 4 ("System").
  EXPECT_EQ(table.rows.front(),
            (NetstatRow{Proto::kTcp, Family::kIpv4, "0.0.0.0", 80, "0.0.0.0:0", "LISTENING", 4}));
  // The last row, IPv6 UDP.
  EXPECT_EQ(table.rows.back(),
            (NetstatRow{Proto::kUdp, Family::kIpv6, "::", 59466, "*:*", "", 1452}));
}

TEST(ParseNetstat, RealCaptureSpecificRows) {
  NetstatTable table = MustParse(ReadWindowsFixture(kCapture));
  auto find = [&](const std::string& key) -> const NetstatRow* {
    for (const NetstatRow& row : table.rows) {
      if (Key(row) == key) return &row;
    }
    return nullptr;
  };
  const NetstatRow* v6 = find("tcp [::]:80");
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(*v6, (NetstatRow{Proto::kTcp, Family::kIpv6, "::", 80, "[::]:0", "LISTENING", 4}));

  const NetstatRow* ntp = find("udp 0.0.0.0:123");
  ASSERT_NE(ntp, nullptr);
  EXPECT_EQ(*ntp, (NetstatRow{Proto::kUdp, Family::kIpv4, "0.0.0.0", 123, "*:*", "", 2532}));

  // The one UDP row with a foreign address (a connected loopback socket).
  const NetstatRow* loop = find("udp 127.0.0.1:59950");
  ASSERT_NE(loop, nullptr);
  EXPECT_EQ(loop->foreign, "127.0.0.1:59950");
  EXPECT_EQ(loop->pid, 2272u);

  const NetstatRow* established = find("tcp 192.168.203.248:63245");
  ASSERT_NE(established, nullptr);
  EXPECT_EQ(*established, (NetstatRow{Proto::kTcp, Family::kIpv4, "192.168.203.248", 63245,
                                      "192.168.45.214:4444", "ESTABLISHED", 2476}));
}

TEST(ParseNetstat, RealCaptureWhatPid4Holds) {
  std::vector<std::string> pid4;
  for (const NetstatRow& row : MustParse(ReadWindowsFixture(kCapture)).rows) {
    if (row.pid == 4) pid4.push_back(Key(row));
  }
  EXPECT_EQ(pid4, (std::vector<std::string>{"tcp 0.0.0.0:80", "tcp 0.0.0.0:445", "tcp 0.0.0.0:5985",
                                            "tcp 0.0.0.0:47001", "tcp 192.168.203.248:139",
                                            "tcp 192.168.203.248:445", "tcp [::]:80",
                                            "tcp [::]:445", "tcp [::]:5985", "tcp [::]:47001",
                                            "udp 192.168.203.248:137", "udp 192.168.203.248:138"}));
}

TEST(ParseNetstat, CrlfBomAndTrailingBlanksReadTheSame) {
  const std::string plain = ReadWindowsFixture(kCapture);
  std::string padded;
  for (char c : plain) padded += c == '\n' ? std::string(" \t \n") : std::string(1, c);
  NetstatTable expected = MustParse(plain);
  ASSERT_EQ(expected.rows.size(), 48u);
  NetstatTable crlf = MustParse("\xEF\xBB\xBF" + WithCrlf(padded));
  EXPECT_EQ(crlf.rows, expected.rows);
  EXPECT_EQ(crlf.skipped, 0);
}

TEST(ParseNetstat, LocalizedHeaderAndStatesAreKeptAsPrinted) {
  NetstatTable table = MustParse(
      "\nAktive Verbindungen\n\n"
      "  Proto  Lokale Adresse         Remoteadresse          Status           PID\n"
      "  TCP    0.0.0.0:80             0.0.0.0:0              ABH\xC3\x96REN          4\n"
      "  TCP    10.0.0.5:3389          10.0.0.9:51234         HERGESTELLT      1100\n"
      "  UDP    [fe80::1%7]:546        *:*                                    1452\n");
  EXPECT_EQ(table.skipped, 0);
  EXPECT_EQ(
      table.rows,
      (std::vector<NetstatRow>{
          {Proto::kTcp, Family::kIpv4, "0.0.0.0", 80, "0.0.0.0:0", "ABH\xC3\x96REN", 4},
          {Proto::kTcp, Family::kIpv4, "10.0.0.5", 3389, "10.0.0.9:51234", "HERGESTELLT", 1100},
          {Proto::kUdp, Family::kIpv6, "fe80::1%7", 546, "*:*", "", 1452}}));
}

TEST(ParseNetstat, ImageAndServiceLinesOfDashBArePassedOver) {
  NetstatTable table = MustParse(
      "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       896\n"
      "  RpcSs\n"
      " [svchost.exe]\n"
      "  TCP    0.0.0.0:445            0.0.0.0:0              LISTENING       4\n"
      " Can not obtain ownership information\n");
  EXPECT_EQ(table.skipped, 0);
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].pid, 896u);
  EXPECT_EQ(table.rows[0].state, "LISTENING");
  EXPECT_EQ(table.rows[1].pid, 4u);
}

// Two rows longer than a console: link-local IPv6 endpoints with zones.
const std::string kLongTcp =
    "  TCP    [fe80::a1b2:c3d4:e5f6:1234%12]:49752  [fe80::a1b2:c3d4:e5f6:5678%12]:445  "
    "ESTABLISHED     1234";
const NetstatRow kLongTcpRow{Proto::kTcp,
                             Family::kIpv6,
                             "fe80::a1b2:c3d4:e5f6:1234%12",
                             49752,
                             "[fe80::a1b2:c3d4:e5f6:5678%12]:445",
                             "ESTABLISHED",
                             1234};
const std::string kLongUdp =
    "  UDP    [fe80::a1b2:c3d4:e5f6:1234%12]:546    *:*                                    1452";
const NetstatRow kLongUdpRow{Proto::kUdp, Family::kIpv6, "fe80::a1b2:c3d4:e5f6:1234%12", 546, "*:*",
                             "",          1452};
const std::string kNextRow =
    "  TCP    0.0.0.0:80             0.0.0.0:0              LISTENING       4\n";
const NetstatRow kNextRowParsed{Proto::kTcp, Family::kIpv4, "0.0.0.0", 80,
                                "0.0.0.0:0", "LISTENING",   4};

TEST(ParseNetstat, RowWrappedByTheConsoleAtAnyColumnIsJoined) {
  // Wherever the wrap falls after the protocol word: inside an address, a port, the state or
  // the PID (whose first digits read as a row already), or between two columns (where the
  // blanks before the cut are lost).
  for (const auto& [row, parsed] :
       {std::pair{kLongTcp, kLongTcpRow}, std::pair{kLongUdp, kLongUdpRow}}) {
    for (size_t cut = std::string_view("  TCP ").size(); cut < row.size(); ++cut) {
      std::string text = "  Proto  Local Address          Foreign Address        State   PID\n" +
                         row.substr(0, cut) + "\n" + row.substr(cut) + "\n" + kNextRow;
      NetstatTable table = MustParse(text);
      EXPECT_EQ(table.rows, (std::vector<NetstatRow>{parsed, kNextRowParsed}))
          << "wrapped at column " << cut << ":\n"
          << text;
      EXPECT_EQ(table.skipped, 0) << cut;
    }
  }
}

TEST(ParseNetstat, RowWrappedIntoThreeLinesIsJoined) {
  for (size_t width = kLongTcp.size() / 3 + 1; width < kLongTcp.size(); ++width) {
    std::string text;
    for (size_t at = 0; at < kLongTcp.size(); at += width) {
      text += kLongTcp.substr(at, width) + "\r\n";
    }
    NetstatTable table = MustParse(text + kNextRow);
    EXPECT_EQ(table.rows, (std::vector<NetstatRow>{kLongTcpRow, kNextRowParsed})) << width;
  }
}

TEST(ParseNetstat, MalformedRowsAreSkippedAndCounted) {
  NetstatTable table = MustParse(
      "  Proto  Local Address          Foreign Address        State           PID\n"
      "  TCP    0.0.0.0:80             0.0.0.0:0              LISTENING\n"          // no PID
      "  TCP    0.0.0.0:81             0.0.0.0:0              4\n"                  // no state
      "  UDP    0.0.0.0:82             *:*                    LISTENING       4\n"  // UDP state
      "  TCP    0.0.0.0:70000          0.0.0.0:0              LISTENING       4\n"  // port
      "  TCP    localhost:84           0.0.0.0:0              LISTENING       4\n"  // name
      "  TCP    ::1:85                 ::1:0                  LISTENING       4\n"  // no []
      "  UDP    [10.0.0.1]:86          *:*                                    4\n"  // v4 in []
      "  TCP    0.0.0.0:87             0.0.0.0                LISTENING       4\n"  // no port
      "  TCP    0.0.0.0:88             0.0.0.0:0              LISTENING       4294967296\n"
      "  TCP    0.0.0.0:89             0.0.0.0:0              LISTENING       -1\n"
      "  TCP\n"
      "  TCP    0.0.0.0:443            0.0.0.0:0              LISTENING       4\n");
  EXPECT_EQ(table.rows, (std::vector<NetstatRow>{{Proto::kTcp, Family::kIpv4, "0.0.0.0", 443,
                                                  "0.0.0.0:0", "LISTENING", 4}}));
  EXPECT_EQ(table.skipped, 11);
}

TEST(ParseNetstat, CaptureCutShortInTheLastRow) {
  const std::string capture = ReadWindowsFixture(kCapture);
  // Cut after the last row's foreign address: its PID is gone.
  NetstatTable table = MustParse(capture.substr(0, capture.rfind("*:*") + 3));
  EXPECT_EQ(table.rows.size(), 47u);
  EXPECT_EQ(table.skipped, 1);
  EXPECT_EQ(table.rows.back().port, 53214);
}

TEST(ParseNetstat, AbsurdRowsAreSkipped) {
  NetstatTable table = MustParse("TCP " + std::string(100000, '9') + "\n" + "UDP " +
                                 std::string(50000, ' ') + ":\n" + kNextRow);
  EXPECT_EQ(table.rows, (std::vector<NetstatRow>{kNextRowParsed}));
  EXPECT_EQ(table.skipped, 2);
}

TEST(ParseNetstat, ErrorsSayWhatWasExpected) {
  struct Case {
    std::string text;
    std::string says;
  } cases[] = {
      {"", "empty input"},
      {"\r\n  \r\n", "empty input"},
      {WithUtf16LeBom(ReadWindowsFixture(kCapture)), "UTF-16"},
      {"The requested operation requires elevation.\n", "requires elevation"},
      // `netstat -an`: no PID column, so no row is whole.
      {"  Proto  Local Address          Foreign Address        State\n"
       "  TCP    0.0.0.0:80             0.0.0.0:0              LISTENING\n"
       "  UDP    0.0.0.0:123            *:*\n",
       "the PID last"},
      // Only the title of a capture cut short.
      {ReadWindowsFixture(kCapture).substr(0, 20), "Active Connections"},
  };
  for (const Case& c : cases) {
    Expected<NetstatTable> table = ParseNetstat(c.text);
    ASSERT_FALSE(table.ok()) << c.says;
    EXPECT_NE(table.error().message.find("netstat -ano"), std::string::npos)
        << table.error().message;
    EXPECT_NE(table.error().message.find(c.says), std::string::npos) << table.error().message;
  }
}

TEST(CaptureToUtf8, Utf16LeWithByteOrderMarkIsConverted) {
  // "TCP Ö €😀" in UTF-16LE: ASCII, a Latin-1 letter, a BMP symbol, a surrogate pair.
  const std::string utf16 =
      std::string("\xFF\xFET\0C\0P\0 \0\xD6\0 \0\xAC\x20\x3D\xD8\x00\xDE", 20);
  EXPECT_EQ(CaptureToUtf8(utf16), "TCP \xC3\x96 \xE2\x82\xAC\xF0\x9F\x98\x80");
  // A final odd byte is not a code unit.
  EXPECT_EQ(CaptureToUtf8(std::string("\xFF\xFEO\0K\0!", 7)), "OK");
  EXPECT_EQ(CaptureToUtf8(std::string("\xFF\xFE", 2)), "");
}

TEST(CaptureToUtf8, OtherTextIsReturnedUnchanged) {
  for (const std::string& text :
       {std::string("\xEF\xBB\xBFTCP"), std::string("TCP\r\n"), std::string("\xFE\xFF\0T\0C", 6),
        std::string("\xFF"), std::string()}) {
    EXPECT_EQ(CaptureToUtf8(text), text);
  }
}

TEST(CaptureToUtf8, PowerShellSavedCaptureParsesLikeTheOriginal) {
  const std::string capture = ReadWindowsFixture(kCapture);
  const std::string saved = WithUtf16LeBom(WithCrlf(capture));
  ASSERT_EQ(saved.size(), 2 + 2 * WithCrlf(capture).size());
  EXPECT_EQ(MustParse(CaptureToUtf8(saved)).rows, MustParse(capture).rows);
  EXPECT_EQ(CaptureToUtf8(WithUtf16LeBom("ABH\xC3\x96REN \xF0\x9F\x98\x80")),
            "ABH\xC3\x96REN \xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace portwarden::httpsys
