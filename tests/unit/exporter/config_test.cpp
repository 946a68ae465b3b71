#include "exporter/config.h"

#include <gtest/gtest.h>

namespace portwarden {
namespace {

TEST(ParseDuration, Units) {
  EXPECT_EQ(ParseDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseDuration("5s")->count(), 5000);
  EXPECT_EQ(ParseDuration("1m")->count(), 60000);
  EXPECT_EQ(ParseDuration("1h30m")->count(), 5400000);
  for (const char* bad : {"", "5", "s", "5x", "-1s", "0s", "1.5s", "99999999999999s"}) {
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  }
}

TEST(ParseConfig, EmptyIsDefaults) {
  auto c = ParseConfig("", "p.yml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->collect_interval.count(), 5000);
  EXPECT_EQ(c->collect_timeout.count(), 10000);
  EXPECT_EQ(c->httpsys.netsh_timeout.count(), 10000);
  EXPECT_EQ(c->listener_filter.max_series, 5000u);
}

TEST(ParseConfig, FullFile) {
  auto c = ParseConfig(R"(
collect:
  interval: 2s
  timeout: 1500ms
httpsys:
  netsh_timeout: 3s
listeners:
  include_ports: [80, "8000-8100"]
  exclude_ports: [8080]
  max_series: 100
)", "p.yml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->collect_interval.count(), 2000);
  EXPECT_EQ(c->collect_timeout.count(), 1500);
  EXPECT_EQ(c->httpsys.netsh_timeout.count(), 3000);
  ASSERT_EQ(c->listener_filter.include.size(), 2u);
  EXPECT_EQ(c->listener_filter.include[1].first, 8000);
  EXPECT_EQ(c->listener_filter.include[1].last, 8100);
  EXPECT_EQ(c->listener_filter.exclude[0].first, 8080);
  EXPECT_EQ(c->listener_filter.max_series, 100u);
}

TEST(ParseConfig, ErrorsNameFileLineColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"colect:\n  interval: 5s\n",
       "p.yml:1:1: colect: unknown key (expected one of: collect, listeners, expect, alerting, httpsys)"},
      {"collect:\n  interval: 5 s\n",
       "p.yml:2:13: collect.interval: invalid duration \"5 s\" (expected e.g. 500ms, 5s, 1m, "
       "1h30m)"},
      {"collect:\n  intervall: 5s\n",
       "p.yml:2:3: collect.intervall: unknown key (expected one of: interval, timeout)"},
      {"collect:\n  timeout: 0s\n",
       "p.yml:2:12: collect.timeout: invalid duration \"0s\" (expected e.g. 500ms, 5s, 1m, 1h30m)"},
      {"httpsys:\n  netsh_timeout: soon\n",
       "p.yml:2:18: httpsys.netsh_timeout: invalid duration \"soon\" (expected e.g. 500ms, 5s, 1m, "
       "1h30m)"},
      {"listeners:\n  include_ports: [80, 70000]\n",
       "p.yml:2:23: listeners.include_ports[1]: invalid port \"70000\" (expected 1-65535)"},
      {"listeners:\n  exclude_ports: [\"90-80\"]\n",
       "p.yml:2:19: listeners.exclude_ports[0]: range \"90-80\" is reversed"},
      {"listeners:\n  include_ports: 80\n",
       "p.yml:2:18: listeners.include_ports: expected a list of ports or ranges like [80, "
       "\"8000-8100\"], got \"80\""},
      {"listeners:\n  max_series: many\n",
       "p.yml:2:15: listeners.max_series: expected an integer from 1 to 1000000, got \"many\""},
      {"collect: [1, 2\n", "p.yml:2:1: invalid YAML: end of sequence flow not found"},
      {"- 1\n- 2\n", "p.yml:1:1: : expected a mapping, got a list"},
      {"collect:\n  interval: 1s\ncollect:\n  interval: 2s\n", "p.yml:3:1: collect: duplicate key"},
      {"expect:\n  - name: web\n    listen: \"*:8o\"\n    owner: {process: nginx}\n",
       "p.yml:3:13: expect[0].listen: invalid port \"8o\" (expected 1-65535)"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.yaml, "p.yml");
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(LoadConfig, MissingFile) {
  auto r = LoadConfig("/nonexistent/portwarden.yml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "/nonexistent/portwarden.yml: cannot open config file");
}

}  // namespace
}  // namespace portwarden
