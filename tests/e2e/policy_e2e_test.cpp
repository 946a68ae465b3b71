// Expectations against real processes: drift shows on /metrics and /api/v1/state within two
// intervals and resolves; reload keeps the old config on a broken file; learn then check.
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace portwarden::testing {
namespace {

// Only the test's port is sampled: the conflicts other tests stage meanwhile on this host
// (ctest runs them in parallel) are not this test's findings.
std::string OnlyPort(int port) {
  return "listeners:\n  include_ports: [" + std::to_string(port) + "]\n";
}

std::string Expectation(int port) {
  return OnlyPort(port) + "expect:\n"
         "  - name: web\n"
         "    listen: 127.0.0.1:" + std::to_string(port) + "/tcp\n"
         "    owner: {process: pw-expected}\n";
}

nlohmann::json State(DaemonProcess& d) {
  auto r = d.Get("/api/v1/state");
  if (r.status != 200) return {};
  return nlohmann::json::parse(r.body, nullptr, false);
}

bool HasFinding(const nlohmann::json& state, const std::string& kind, const std::string& owner) {
  if (!state.contains("data")) return false;
  for (const auto& f : state["data"]["findings"]) {
    if (f["kind"] == kind && f["owner"].get<std::string>().find(owner) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(PolicyE2e, IntruderIsWrongOwnerThenBlockedThenResolved) {
  const int port = FreePort();
  std::string config = WriteTempFile(Expectation(port));
  auto expected = std::make_unique<ListenerProcess>("pw-expected", "127.0.0.1", port);
  ASSERT_TRUE(expected->ok());
  DaemonProcess d({"--config.file=" + config});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  ASSERT_TRUE(PollUntil([&] {
    return d.Get("/metrics").body.find("portwarden_expectation_satisfied{rule=\"web\"} 1") !=
           std::string::npos;
  })) << d.Get("/metrics").body;

  // The expected owner goes away and an intruder takes the exact address: wrong_owner.
  expected->Kill();
  ListenerProcess intruder("pw-intruder", "127.0.0.1", port);
  ASSERT_TRUE(intruder.ok());
  const std::string finding = "portwarden_finding{kind=\"wrong_owner\",rule=\"web\",proto=\"tcp\","
                              "address=\"127.0.0.1\",port=\"" + std::to_string(port) +
                              "\",owner=\"process:pw-intruder\"} 1";
  ASSERT_TRUE(PollUntil([&] { return d.Get("/metrics").body.find(finding) != std::string::npos; }))
      << d.Get("/metrics").body;
  EXPECT_NE(d.Get("/metrics").body.find("portwarden_expectation_satisfied{rule=\"web\"} 0"),
            std::string::npos);
  auto state = State(d);
  ASSERT_TRUE(HasFinding(state, "wrong_owner", "pw-intruder")) << state.dump(2);
  for (const auto& f : state["data"]["findings"]) {
    if (f["kind"] != "wrong_owner") continue;
    EXPECT_FALSE(f["explanation"].get<std::string>().empty());
    EXPECT_FALSE(f["remediation"].get<std::string>().empty());
  }
  EXPECT_NE(d.child().Stderr().find("level=warn caller=sampler msg=finding_raised kind=wrong_owner"),
            std::string::npos)
      << d.child().Stderr();

  // The intruder leaves; the expected owner is back: the finding resolves after the hold-down.
  intruder.Kill();
  ListenerProcess back("pw-expected", "127.0.0.1", port);
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(PollUntil([&] { return d.Get("/metrics").body.find(finding) == std::string::npos; }));
  EXPECT_NE(d.Get("/metrics").body.find("portwarden_expectation_satisfied{rule=\"web\"} 1"),
            std::string::npos);
  auto events = nlohmann::json::parse(d.Get("/api/v1/events").body);
  int raised = 0, resolved = 0;
  for (const auto& e : events["data"]) {
    if (e["kind"] != "wrong_owner") continue;
    raised += e["type"] == "finding_raised";
    resolved += e["type"] == "finding_resolved";
  }
  EXPECT_EQ(raised, 1) << events.dump(2);
  EXPECT_EQ(resolved, 1) << events.dump(2);
  unlink(config.c_str());
}

TEST(PolicyE2e, WildcardIntruderBlocksTheExpectedAddress) {
  const int port = FreePort();
  std::string config = WriteTempFile(Expectation(port));
  ListenerProcess blocker("pw-blocker", "0.0.0.0", port);
  ASSERT_TRUE(blocker.ok());
  DaemonProcess d({"--config.file=" + config});
  ASSERT_NE(d.port(), 0);
  ASSERT_TRUE(PollUntil([&] { return HasFinding(State(d), "blocked", "pw-blocker"); }))
      << State(d).dump(2);
  auto landing = d.Get("/");
  EXPECT_NE(landing.body.find("<h2 class=\"err\">Findings (1)</h2>"), std::string::npos)
      << landing.body;
  EXPECT_LT(landing.body.find("Findings"), landing.body.find("<h2>Listeners</h2>"));
  unlink(config.c_str());
}

TEST(PolicyE2e, ReloadWithBrokenFileKeepsTheOldConfig) {
  const int port = FreePort();
  std::string config = WriteTempFile(Expectation(port));
  DaemonProcess d({"--config.file=" + config, "--web.enable-lifecycle"});
  ASSERT_NE(d.port(), 0);
  const std::string rule = "portwarden_expectation_satisfied{rule=\"web\"}";
  ASSERT_TRUE(PollUntil([&] { return d.Get("/metrics").body.find(rule) != std::string::npos; }));

  // Broken file: POST /-/reload answers 500 with the positioned error; the rule stays.
  { std::ofstream(config) << "expect:\n  - name: web\n    listen: 127.0.0.1:99999\n"; }
  auto r = HttpRequest("127.0.0.1", d.port(), "POST", "/-/reload");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find(config + ":3:13: expect[0].listen: invalid port \"99999\""),
            std::string::npos)
      << r.body;
  EXPECT_NE(d.Get("/metrics").body.find("portwarden_config_last_reload_successful 0"),
            std::string::npos);
  // SIGHUP goes the same way.
  d.child().Signal(SIGHUP);
  ASSERT_TRUE(PollUntil([&] {
    return d.child().Stderr().find("config reload failed") != d.child().Stderr().rfind("config reload failed");
  }));
  EXPECT_NE(d.Get("/metrics").body.find(rule), std::string::npos);

  // A good file: the new rule replaces the old one.
  { std::ofstream(config) << "expect:\n  - name: other\n    listen: \"*:" << port << "\"\n    exclusive: true\n"; }
  EXPECT_EQ(HttpRequest("127.0.0.1", d.port(), "POST", "/-/reload").status, 200);
  ASSERT_TRUE(PollUntil([&] {
    return d.Get("/metrics").body.find("portwarden_expectation_satisfied{rule=\"other\"} 1") !=
           std::string::npos;
  }));
  auto body = d.Get("/metrics").body;
  EXPECT_EQ(body.find(rule), std::string::npos);
  EXPECT_NE(body.find("portwarden_config_last_reload_successful 1"), std::string::npos);
  unlink(config.c_str());
}

TEST(PolicyE2e, ReloadEndpointNeedsLifecycleFlag) {
  DaemonProcess d;
  ASSERT_NE(d.port(), 0);
  EXPECT_EQ(HttpRequest("127.0.0.1", d.port(), "POST", "/-/reload").status, 403);
  EXPECT_EQ(d.Get("/-/reload").status, 405);
}

TEST(PolicyE2e, LearnThenCheckIsClean) {
  ListenerProcess learned("pw-learned", "127.0.0.1", FreePort());
  ASSERT_TRUE(learned.ok());
  // The learned process's port: ask portwarden itself, as a user would.
  auto snap = nlohmann::json::parse(RunCommand(PortwardenBinary() + " snapshot --format json 2>/dev/null").output);
  int port = 0;
  for (const auto& l : snap["listeners"]) {
    if (l["owner"]["main"]["process"] == "pw-learned") port = l["port"];
  }
  ASSERT_NE(port, 0);
  auto learn = RunCommand(PortwardenBinary() + " learn --ports " + std::to_string(port) + " 2>/dev/null");
  ASSERT_EQ(learn.status, 0) << learn.output;
  EXPECT_NE(learn.output.find("process: pw-learned"), std::string::npos) << learn.output;
  std::string file = WriteTempFile(learn.output + OnlyPort(port));
  auto valid = RunCommand(PortwardenBinary() + " check-config " + file);
  EXPECT_EQ(valid.status, 0) << valid.output;
  EXPECT_NE(valid.output.find("OK (1 expectation(s))"), std::string::npos) << valid.output;
  auto check = RunCommand(PortwardenBinary() + " check --config.file=" + file);
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_NE(check.output.find("0 finding(s), 1 expectation(s)"), std::string::npos) << check.output;

  learned.Kill();
  auto after = RunCommand(PortwardenBinary() + " check --format json --config.file=" + file);
  EXPECT_EQ(after.status, 1) << after.output;
  auto report = nlohmann::json::parse(after.output);
  ASSERT_EQ(report["findings"].size(), 1u) << after.output;
  EXPECT_EQ(report["findings"][0]["kind"], "missing");

  std::ofstream(file) << "expect: 5\n";
  EXPECT_EQ(RunCommand(PortwardenBinary() + " check --config.file=" + file).status, 2);
  EXPECT_EQ(RunCommand(PortwardenBinary() + " check-config " + file).status, 1);
  unlink(file.c_str());
}

}  // namespace
}  // namespace portwarden::testing
