// Every parser over damaged input: each fixture cut at every byte, and deterministic random
// byte mutations of it. The parsers must return (a value or an Error) without crashing or
// reading out of bounds; run under AddressSanitizer/UBSan to make the latter visible.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "collectors/httpsys/httpsys.h"
#include "collectors/httpsys/netsh_parse.h"
#include "collectors/httpsys/netstat_parse.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::httpsys {
namespace {

using testing::ReadWindowsFixture;

const std::vector<std::string> kFixtures = {
    "netsh-excludedportrange-synth-tcp-crlf.txt",
    "netsh-iplisten-en-1-with-entries.txt",
    "netsh-iplisten-synth-empty.txt",
    "netsh-iplisten-synth-ipv6-crlf-bom.txt",
    "netsh-servicestate-requestq-synth-1-oldformat.txt",
    "netsh-servicestate-requestq-synth-2-newformat-services.txt",
    "netsh-servicestate-session-en-3-newformat-winrm-wcf.txt",
    "netsh-servicestate-session-en-4-iis-defaultapppool.txt",
    "netsh-sslcert-en-1-ipport-modern.txt",
    "netsh-sslcert-en-6-hostnameport-adfs.txt",
    "netsh-sslcert-synth-ipv6-ccs-sni.txt",
    "netsh-urlacl-en-2.txt",
    "netsh-urlacl-en-3.txt",
    "netsh-urlacl-it-1.txt",
    "netsh-urlacl-synth-delegate-crlf.txt",
    "netstat-ano-en-1-iis-pid4-full.txt",
};

// Runs every parser on `text`, each line of it as a URL and an SDDL, and checks the result
// is either a value or an Error with a message.
void ParseEverything(const std::string& text) {
  auto check = [](const auto& result) {
    if (!result.ok()) {
      EXPECT_FALSE(result.error().message.empty());
    }
  };
  check(ParseIpListen(text));
  check(ParseUrlAcl(text));
  check(ParseSslCert(text));
  check(ParseServiceState(text));
  check(ParseExcludedPortRanges(text));
  check(ParseNetstat(text));
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string_view line = std::string_view(text).substr(start, end - start);
    check(ParseHttpSysUrl(line));
    check(DecodeSddl(line));
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

TEST(NetshRobustness, EveryFixtureIsReadInFull) {
  for (const std::string& name : kFixtures) {
    EXPECT_GT(ReadWindowsFixture(name).size(), 50u) << name;
  }
}

TEST(NetshRobustness, EveryPrefixOfEveryFixture) {
  for (const std::string& name : kFixtures) {
    std::string text = ReadWindowsFixture(name);
    for (size_t length = 0; length <= text.size(); ++length) {
      ParseEverything(text.substr(0, length));
    }
  }
}

TEST(NetshRobustness, RandomMutationsOfEveryFixture) {
  // Bytes that steer the parsers: structure characters, digits, a NUL and a high byte.
  const std::string kInteresting =
      std::string(":;()[]{}-*,.%/\\ \t\r\n09AFafSD+") + std::string(1, '\0') + "\xEF\xFF";
  std::mt19937 rng(20240521);
  for (const std::string& name : kFixtures) {
    const std::string original = ReadWindowsFixture(name);
    if (original.empty()) continue;
    for (int round = 0; round < 200; ++round) {
      std::string text = original;
      int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits && !text.empty(); ++e) {
        size_t at = rng() % text.size();
        char byte = kInteresting[rng() % kInteresting.size()];
        switch (rng() % 3) {
          case 0:
            text[at] = byte;
            break;
          case 1:
            text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte);
            break;
          default:
            text.erase(at, 1 + rng() % 16);
            break;
        }
      }
      ParseEverything(text);
    }
  }
}

TEST(NetshRobustness, PathologicalShapes) {
  std::string deep;
  for (int i = 0; i < 3000; ++i) deep += std::string(static_cast<size_t>(i), ' ') + "a: 1.0\n";
  ParseEverything(deep);
  ParseEverything(std::string(100000, '-'));
  ParseEverything(std::string(100000, '('));
  ParseEverything("D:" + std::string(50000, '(') + ")");
  ParseEverything(std::string("\xEF\xBB\xBF"));
  ParseEverything("http://[" + std::string(1000, ':') + "]:80/");
}

}  // namespace
}  // namespace portwarden::httpsys
