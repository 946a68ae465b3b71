#include "exporter/cli.h"

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <string_view>

namespace portwarden {
namespace {

Expected<Options> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "portwarden");
  return ParseArgs(static_cast<int>(args.size()), args.data());
}

TEST(ParseArgs, DefaultsToRun) {
  auto o = Parse({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->command, "run");
  EXPECT_EQ(o->listen_addresses, std::vector<std::string>{":10061"});
  EXPECT_EQ(o->read_timeout.count(), 5000);
  EXPECT_EQ(o->max_connections, 4096);
  EXPECT_EQ(o->telemetry_path, "/metrics");
  EXPECT_FALSE(o->collect_interval);
}

TEST(ParseArgs, FlagsInBothForms) {
  auto o = Parse({"run", "--config.file=/etc/p.yml", "--web.listen-address", "127.0.0.1:9",
                  "--collect.interval=1s", "--log.format=json", "--web.telemetry-path=/m"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->config_file, "/etc/p.yml");
  EXPECT_EQ(o->listen_addresses, std::vector<std::string>{"127.0.0.1:9"});
  EXPECT_EQ(o->collect_interval->count(), 1000);
  EXPECT_EQ(o->log_format, "json");
  EXPECT_EQ(o->telemetry_path, "/m");
  auto svc = Parse({"service", "install", "--config.file", "C:\\pw.yml"});
  ASSERT_TRUE(svc) << svc.error().message;
  EXPECT_EQ(svc->command, "service");
  EXPECT_EQ(svc->service_action, "install");
  EXPECT_EQ(svc->flags, (std::vector<std::string>{"--config.file", "C:\\pw.yml"}));
  auto s = Parse({"snapshot", "--format", "json"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->command, "snapshot");
  EXPECT_EQ(s->format, "json");
  auto learn = Parse({"learn", "--ports", "80,8000-8002"});
  ASSERT_TRUE(learn) << learn.error().message;
  ASSERT_EQ(learn->ports.size(), 2u);
  EXPECT_EQ(learn->ports[1].last, 8002);
  auto cc = Parse({"check-config", "/etc/portwarden.yml"});
  ASSERT_TRUE(cc);
  EXPECT_EQ(cc->config_file, "/etc/portwarden.yml");
  EXPECT_EQ(Parse({"check"})->format, "text");
}

TEST(ParseArgs, ListenAddressRepeatsAndReplacesTheDefault) {
  auto o = Parse({"--web.listen-address=127.0.0.1:9", "--web.listen-address", "[::1]:9",
                  "--web.read-timeout=250ms", "--web.max-connections=64"});
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->listen_addresses, (std::vector<std::string>{"127.0.0.1:9", "[::1]:9"}));
  EXPECT_EQ(o->read_timeout.count(), 250);
  EXPECT_EQ(o->max_connections, 64);
}

TEST(ParseArgs, DecodeTakesAKindAndAFile) {
  for (std::string_view kind : kDecodeKinds) {
    const std::string name(kind);
    auto o = Parse({"decode", name.c_str(), "C:\\capture.txt", "--log.level=debug"});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->command, "decode");
    EXPECT_EQ(o->decode_kind, kind);
    EXPECT_EQ(o->decode_file, "C:\\capture.txt");
    EXPECT_EQ(o->log_level, "debug");
  }
  EXPECT_EQ(std::size(kDecodeKinds), 6u);
}

TEST(ParseArgs, ErrorsNameTheCulprit) {
  struct Case {
    std::vector<const char*> args;
    const char* message;
  } cases[] = {
      {{"--no.such"}, "unknown flag --no.such"},
      {{"--no.such=1"}, "unknown flag --no.such"},
      {{"frobnicate"},
       "unknown command \"frobnicate\" (expected run, snapshot, check, learn, check-config, decode "
       "or service)"},
      {{"service"},
       "service: expected an action: install, configure, uninstall, start, stop or run"},
      {{"service", "restart"},
       "service: expected an action: install, configure, uninstall, start, stop or run"},
      {{"--collect.interval=5"},
       "--collect.interval: invalid duration \"5\" (expected e.g. 500ms, 5s, 1m, 1h30m)"},
      {{"--collect.interval"}, "flag --collect.interval needs a value"},
      {{"--web.listen-address=10061"},
       "--web.listen-address: invalid value \"10061\" (expected [host]:port, e.g. :10061 or "
       "127.0.0.1:10061)"},
      {{"--web.read-timeout=0s"},
       "--web.read-timeout: invalid duration \"0s\" (expected e.g. 500ms, 5s, 1m, 1h30m)"},
      {{"--web.read-timeout=soon"},
       "--web.read-timeout: invalid duration \"soon\" (expected e.g. 500ms, 5s, 1m, 1h30m)"},
      {{"--web.max-connections=0"},
       "--web.max-connections: invalid value \"0\" (expected a whole number from 1 to 1000000)"},
      {{"--web.max-connections=10k"},
       "--web.max-connections: invalid value \"10k\" (expected a whole number from 1 to "
       "1000000)"},
      {{"--web.telemetry-path=metrics"},
       "--web.telemetry-path: invalid value \"metrics\" (expected a path like /metrics)"},
      {{"snapshot", "--format=xml"}, "--format: invalid value \"xml\" (expected table or json)"},
      {{"--format=json"}, "--format applies to the snapshot and check commands only"},
      {{"check", "--format=table"}, "--format: invalid value \"table\" (expected text or json)"},
      {{"learn", "--ports=80,x"}, "--ports: invalid port \"x\" (expected 1-65535)"},
      {{"run", "--ports=80"}, "--ports applies to the learn command only"},
      {{"check-config"}, "check-config: expected the config file to check"},
      {{"run", "extra"}, "unexpected argument \"extra\""},
      {{"decode"},
       "decode: expected a kind and a file (decode KIND FILE, KIND one of iplisten, urlacl, "
       "sslcert, servicestate, excludedportrange or netstat)"},
      {{"decode", "--log.level=debug"},
       "decode: expected a kind and a file (decode KIND FILE, KIND one of iplisten, urlacl, "
       "sslcert, servicestate, excludedportrange or netstat)"},
      {{"decode", "ipconfig", "x.txt"},
       "decode: unknown kind \"ipconfig\" (expected iplisten, urlacl, sslcert, servicestate, "
       "excludedportrange or netstat)"},
      {{"decode", "netstat"}, "decode netstat: expected the file to decode"},
      {{"decode", "netstat", "a.txt", "b.txt"}, "unexpected argument \"b.txt\""},
      {{"decode", "netstat", "a.txt", "--format=json"},
       "--format applies to the snapshot and check commands only"},
  };
  for (const auto& c : cases) {
    auto o = Parse(c.args);
    ASSERT_FALSE(o) << c.message;
    EXPECT_EQ(o.error().message, c.message);
  }
}

}  // namespace
}  // namespace portwarden
