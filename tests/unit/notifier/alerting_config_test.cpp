// The `alerting:` section of the config file (parsed by exporter/config.cpp).
#include <gtest/gtest.h>

#include "exporter/config.h"

namespace portwarden {
namespace {

TEST(AlertingConfig, AbsentMeansNoPush) {
  auto c = ParseConfig("collect:\n  interval: 5s\n", "p.yml");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->alerting);
}

TEST(AlertingConfig, DefaultsWithOneAlertmanager) {
  auto c = ParseConfig("alerting:\n  alertmanagers: [\"http://am:9093\"]\n", "p.yml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->alerting);
  const notifier::AlertingConfig& a = *c->alerting;
  EXPECT_EQ(a.alertmanagers, std::vector<std::string>{"http://am:9093"});
  EXPECT_TRUE(a.webhooks.empty());
  EXPECT_TRUE(a.labels.empty());
  EXPECT_EQ(a.resend_interval.count(), 60'000);
  EXPECT_EQ(a.timeout.count(), 10'000);
  EXPECT_EQ(a.backoff_initial.count(), 1'000);
  EXPECT_EQ(a.backoff_max.count(), 60'000);
  EXPECT_EQ(a.queue_path, "");
  EXPECT_EQ(a.queue_max_entries, 10'000u);
}

TEST(AlertingConfig, FullSection) {
  auto c = ParseConfig(R"(
alerting:
  alertmanagers:
    - http://am1:9093
    - http://am2:9093/prefix
  webhooks: [http://chat:8080/hook]
  labels:
    env: prod
    site: fra1
  external_url: https://web01.example:10061
  resend_interval: 2m
  timeout: 5s
  backoff: {initial: 500ms, max: 30s}
  queue:
    path: /var/lib/portwarden/q.json
    max_entries: 500
)",
                       "p.yml");
  ASSERT_TRUE(c) << c.error().message;
  const notifier::AlertingConfig& a = *c->alerting;
  EXPECT_EQ(a.alertmanagers.size(), 2u);
  EXPECT_EQ(a.webhooks, std::vector<std::string>{"http://chat:8080/hook"});
  EXPECT_EQ(a.labels, (std::map<std::string, std::string>{{"env", "prod"}, {"site", "fra1"}}));
  EXPECT_EQ(a.external_url, "https://web01.example:10061");
  EXPECT_EQ(a.resend_interval.count(), 120'000);
  EXPECT_EQ(a.timeout.count(), 5'000);
  EXPECT_EQ(a.backoff_initial.count(), 500);
  EXPECT_EQ(a.backoff_max.count(), 30'000);
  EXPECT_EQ(a.queue_path, "/var/lib/portwarden/q.json");
  EXPECT_EQ(a.queue_max_entries, 500u);
}

TEST(AlertingConfig, ErrorsNameFileLineColumn) {
  struct Case {
    const char* yaml;
    const char* message;
  } cases[] = {
      {"alerting: yes\n", "p.yml:1:11: alerting: expected a mapping, got \"yes\""},
      {"alerting:\n  labels: {env: prod}\n",
       "p.yml:2:3: alerting: expected at least one URL in alertmanagers or webhooks"},
      {"alerting:\n  alertmanager: [http://am:9093]\n",
       "p.yml:2:3: alerting.alertmanager: unknown key (expected one of: alertmanagers, webhooks, "
       "labels, external_url, resend_interval, timeout, backoff, queue)"},
      {"alerting:\n  alertmanagers: http://am:9093\n",
       "p.yml:2:18: alerting.alertmanagers: expected a list of http:// URLs, got "
       "\"http://am:9093\""},
      {"alerting:\n  alertmanagers: [\"https://am:9093\"]\n",
       "p.yml:2:19: alerting.alertmanagers[0]: invalid URL \"https://am:9093\": https is not "
       "supported"},
      {"alerting:\n  alertmanagers: [http://am:9093]\n  webhooks: [http://am:9093]\n",
       "p.yml:3:14: alerting.webhooks[0]: duplicate receiver URL"},
      {"alerting:\n  webhooks: [http://h]\n  labels: {severity: page}\n",
       "p.yml:3:12: alerting.labels.severity: reserved: every alert sets it from its finding"},
      {"alerting:\n  webhooks: [http://h]\n  labels: {__x: y}\n",
       "p.yml:3:12: alerting.labels: invalid label name \"__x\""},
      {"alerting:\n  webhooks: [http://h]\n  labels: {a-b: y}\n",
       "p.yml:3:12: alerting.labels: invalid label name \"a-b\""},
      {"alerting:\n  webhooks: [http://h]\n  labels: [a]\n",
       "p.yml:3:11: alerting.labels: expected a mapping of label names to values"},
      {"alerting:\n  webhooks: [http://h]\n  resend_interval: often\n",
       "p.yml:3:20: alerting.resend_interval: invalid duration \"often\""},
      {"alerting:\n  webhooks: [http://h]\n  backoff: {initial: 1m, max: 1s}\n",
       "p.yml:3:12: alerting.backoff: initial is longer than max"},
      {"alerting:\n  webhooks: [http://h]\n  queue: {max_entries: 0}\n",
       "p.yml:3:24: alerting.queue.max_entries: expected an integer from 1 to 1000000, got \"0\""},
      {"alerting:\n  webhooks: [http://h]\n  queue: {dir: /tmp}\n",
       "p.yml:3:11: alerting.queue.dir: unknown key (expected one of: path, max_entries)"},
      {"alerting:\n  webhooks: [http://h]\n  external_url: web01:10061\n",
       "p.yml:3:17: alerting.external_url: expected an http:// or https:// URL"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.yaml, "p.yml");
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_EQ(r.error().message.substr(0, std::string(c.message).size()), c.message)
        << r.error().message;
  }
}

}  // namespace
}  // namespace portwarden
