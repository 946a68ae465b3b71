// `portwarden decode KIND FILE`, the real binary on the real captures: one per kind, the same
// captures as PowerShell 5 saves them (UTF-16LE with a byte order mark, CRLF), and the exit
// codes and messages of a file it cannot use (1) and of a usage error (2).
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::testing {
namespace {

using httpsys::testing::ReadWindowsFixture;
using httpsys::testing::WithCrlf;
using httpsys::testing::WithUtf16LeBom;
using nlohmann::json;

std::string FixturePath(const std::string& name) {
  return std::string(PORTWARDEN_FIXTURES_DIR) + "/windows/" + name;
}

struct Decoded {
  int status = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

// Runs `portwarden ARGS` with stdout and stderr kept apart.
Decoded Portwarden(const std::string& args) {
  const std::string err_file = WriteTempFile("", ".err");
  CommandResult r = RunCommand("{ " + PortwardenBinary() + " " + args + " 2>" + err_file + "; }");
  std::ifstream in(err_file, std::ios::binary);
  std::ostringstream err;
  err << in.rdbuf();
  unlink(err_file.c_str());
  return {r.status, r.output, err.str()};
}

// `decode KIND FILE`, which must succeed; its JSON.
json DecodeOk(const std::string& kind, const std::string& file) {
  Decoded d = Portwarden("decode " + kind + " '" + file + "'");
  EXPECT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(d.err, "");
  json out = json::parse(d.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(out.is_discarded()) << d.out;
  if (out.is_discarded()) return json::object();
  EXPECT_EQ(out["kind"], kind);
  EXPECT_EQ(out["file"], file);
  return out;
}

struct Case {
  std::string kind;
  std::string fixture;
  std::function<void(const json&)> check;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"iplisten", "netsh-iplisten-en-1-with-entries.txt",
       [](const json& j) {
         // Two listings pasted with a delete and an add between them: the last one holds.
         EXPECT_EQ(j["records"], json::parse(R"([{"address": "192.168.33.2"},
                                                 {"address": "127.0.0.0"},
                                                 {"address": "127.0.0.1"}])"));
         EXPECT_EQ(j["skipped"], 0);
       }},
      {"urlacl", "netsh-urlacl-en-2.txt",
       [](const json& j) {
         ASSERT_EQ(j["records"].size(), 3u);
         const json& wsman = j["records"][1];
         EXPECT_EQ(wsman["url"], "http://+:5985/wsman/");
         // The console wrapped this SDDL inside the second SID; the rest is joined back.
         EXPECT_EQ(wsman["principals"][1]["sid"],
                   "S-1-5-80-4059739203-877974739-1245631912-527174227-2996563517");
         EXPECT_EQ(wsman["principals"][1]["account"], "NT SERVICE\\Wecsvc");
         EXPECT_EQ(wsman["principals"][1]["listen"], true);
         EXPECT_EQ(wsman["principals"][1]["delegate"], false);
         EXPECT_EQ(j["skipped"], 1) << "the reservation cut mid-URL at the end";
       }},
      {"sslcert", "netsh-sslcert-en-1-ipport-modern.txt",
       [](const json& j) {
         ASSERT_EQ(j["records"].size(), 1u);
         const json& b = j["records"][0];
         EXPECT_EQ(b["kind"], "ipport");
         EXPECT_EQ(b["endpoint"], "0.0.0.0:44307");
         EXPECT_EQ(b["port"], 44307);
         EXPECT_EQ(b["cert_hash"], "61d34f532da121bbab64723c4871e72c92f03735");
         EXPECT_EQ(b["app_id"], "{214124cd-d05b-4309-9af9-9caa44b2b74a}");
         EXPECT_EQ(b["store"], "MY");
         EXPECT_EQ(j["skipped"], 0);
       }},
      {"servicestate", "netsh-servicestate-session-en-4-iis-defaultapppool.txt",
       [](const json& j) {
         ASSERT_EQ(j["request_queues"].size(), 2u);
         const json& unnamed = j["request_queues"][0];
         EXPECT_EQ(unnamed["name"], "");
         EXPECT_EQ(unnamed["processes"][0]["pid"], 3416);
         EXPECT_EQ(unnamed["controller_pid"], nullptr);
         const json& pool = j["request_queues"][1];
         EXPECT_EQ(pool["name"], "DefaultAppPool");
         EXPECT_EQ(pool["controller_pid"], 3408);
         EXPECT_EQ(pool["urls"], json::array({"HTTP://127.0.0.1:8000:127.0.0.1/"}));
         EXPECT_EQ(pool["urls_from_groups"], true);
         ASSERT_EQ(j["url_groups"].size(), 2u);
         EXPECT_EQ(j["url_groups"][1]["id"], "FF00000040000001");
         EXPECT_EQ(j["url_groups"][1]["request_queue"], "DefaultAppPool");
         EXPECT_EQ(j["skipped"], 0);
       }},
      {"excludedportrange", "netsh-excludedportrange-synth-tcp-crlf.txt",
       [](const json& j) {
         EXPECT_EQ(j["records"], json::parse(R"([
             {"start": 1024, "end": 1123, "administered": false},
             {"start": 2869, "end": 2869, "administered": false},
             {"start": 5357, "end": 5357, "administered": false},
             {"start": 50000, "end": 50059, "administered": true}])"));
         EXPECT_EQ(j["skipped"], 0);
       }},
      {"netstat", "netstat-ano-en-1-iis-pid4-full.txt",
       [](const json& j) {
         ASSERT_EQ(j["records"].size(), 48u);
         EXPECT_EQ(j["records"][0], json::parse(R"({"proto": "tcp", "family": "ipv4",
             "address": "0.0.0.0", "port": 80, "foreign": "0.0.0.0:0", "state": "LISTENING",
             "pid": 4})"));
         EXPECT_EQ(j["records"][47], json::parse(R"({"proto": "udp", "family": "ipv6",
             "address": "::", "port": 59466, "foreign": "*:*", "state": null, "pid": 1452})"));
         EXPECT_EQ(j["skipped"], 0);
       }},
  };
  return cases;
}

TEST(Decode, EveryKindOnARealCapture) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.kind);
    json out = DecodeOk(c.kind, FixturePath(c.fixture));
    c.check(out);
  }
}

TEST(Decode, PowerShellSavedCapturesDecodeLikeTheOriginals) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.kind);
    const std::string utf8 = ReadWindowsFixture(c.fixture);
    ASSERT_FALSE(utf8.empty()) << c.fixture;
    const std::string saved = WriteTempFile(WithUtf16LeBom(WithCrlf(utf8)), ".txt");
    json out = DecodeOk(c.kind, saved);
    unlink(saved.c_str());
    c.check(out);
  }
}

TEST(Decode, NonAsciiSurvivesUtf16) {
  // A German netstat: the state is localized, and not ASCII.
  std::string capture = ReadWindowsFixture("netstat-ano-en-1-iis-pid4-full.txt");
  const std::string listening = "LISTENING       4\n";
  ASSERT_NE(capture.find(listening), std::string::npos);
  capture.replace(capture.find(listening), listening.size(), "ABH\xC3\x96REN         4\n");
  const std::string saved = WriteTempFile(WithUtf16LeBom(WithCrlf(capture)), ".txt");
  json out = DecodeOk("netstat", saved);
  unlink(saved.c_str());
  ASSERT_EQ(out["records"].size(), 48u);
  EXPECT_EQ(out["records"][0]["state"], "ABH\xC3\x96REN");
  EXPECT_EQ(out["records"][0]["port"], 80);
  EXPECT_EQ(out["records"][1]["state"], "LISTENING");
}

TEST(Decode, UnusableFilesExitOneNamingTheFileAndWhatWasExpected) {
  const std::string missing = "/nonexistent/portwarden-capture.txt";
  Decoded d = Portwarden("decode netstat " + missing);
  EXPECT_EQ(d.status, 1);
  EXPECT_EQ(d.out, "");
  EXPECT_EQ(d.err, "portwarden: error: " + missing + ": cannot read: No such file or directory\n");

  // Another command's output.
  const std::string urlacl = FixturePath("netsh-urlacl-en-3.txt");
  d = Portwarden("decode netstat " + urlacl);
  EXPECT_EQ(d.status, 1);
  EXPECT_EQ(d.out, "");
  EXPECT_EQ(d.err.rfind("portwarden: error: " + urlacl +
                            ": netstat -ano: unrecognized output, "
                            "expected rows \"PROTO  LOCAL  FOREIGN  [STATE]  PID\"",
                        0),
            0u)
      << d.err;

  const std::string empty = WriteTempFile("\r\n", ".txt");
  d = Portwarden("decode iplisten " + empty);
  unlink(empty.c_str());
  EXPECT_EQ(d.status, 1);
  EXPECT_EQ(d.err, "portwarden: error: " + empty +
                       ": netsh http show iplisten: empty input; expected the command's output\n");

  // UTF-16 without a byte order mark is not guessed at: the parser says what it sees.
  std::string no_bom = WithUtf16LeBom("IP addresses present in the IP listen list:\n").substr(2);
  const std::string utf16 = WriteTempFile(no_bom, ".txt");
  d = Portwarden("decode iplisten " + utf16);
  unlink(utf16.c_str());
  EXPECT_EQ(d.status, 1);
  EXPECT_NE(d.err.find(utf16 + ": netsh http show iplisten: input looks like UTF-16"),
            std::string::npos)
      << d.err;
}

TEST(Decode, UsageErrorsExitTwo) {
  const std::string kinds = "iplisten, urlacl, sslcert, servicestate, excludedportrange or netstat";
  struct UsageCase {
    std::string args;
    std::string message;
  } cases[] = {
      {"decode",
       "decode: expected a kind and a file (decode KIND FILE, KIND one of " + kinds + ")"},
      {"decode ipconfig x.txt", "decode: unknown kind \"ipconfig\" (expected " + kinds + ")"},
      {"decode netstat", "decode netstat: expected the file to decode"},
  };
  for (const UsageCase& c : cases) {
    Decoded d = Portwarden(c.args);
    EXPECT_EQ(d.status, 2) << c.args;
    EXPECT_EQ(d.out, "") << c.args;
    EXPECT_EQ(d.err.rfind("portwarden: error: " + c.message + "\n\nusage: portwarden", 0), 0u)
        << d.err;
    EXPECT_NE(d.err.find("  decode KIND FILE "), std::string::npos) << "the usage lists decode";
  }
}

}  // namespace
}  // namespace portwarden::testing
