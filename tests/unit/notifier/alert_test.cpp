#include "exporter/notifier/alert.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "exporter/notifier/http_url.h"
#include "exporter/notifier/payload.h"
#include "tests/unit/notifier/findings.h"

namespace portwarden::notifier {
namespace {

using testing::Blocked;

TEST(FormatRfc3339, UtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1700000000.25), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(FormatRfc3339(951782400), "2000-02-29T00:00:00.000Z");  // leap day
  EXPECT_EQ(FormatRfc3339(4102444799.999), "2099-12-31T23:59:59.999Z");
}

TEST(Fingerprint, IsAlertmanagersFnv1aOverSortedPairs) {
  // FNV-1a 64 of the empty input is the offset basis.
  EXPECT_EQ(Fingerprint({}), "cbf29ce484222325");
  // Alertmanager hashes name, 0xff, value, 0xff per label in name order; the map's order
  // is that order, so insertion order cannot matter.
  LabelSet a{{"alertname", "X"}, {"instance", "h"}};
  LabelSet b;
  b["instance"] = "h";
  b["alertname"] = "X";
  EXPECT_EQ(Fingerprint(a), Fingerprint(b));
  EXPECT_NE(Fingerprint(a), Fingerprint({{"alertname", "X"}, {"instance", "g"}}));
  // The separators keep {"ab": ""} and {"a": "b"} apart.
  EXPECT_NE(Fingerprint({{"ab", ""}}), Fingerprint({{"a", "b"}}));
  EXPECT_EQ(Fingerprint(a).size(), 16u);
}

TEST(FindingAlert, StableLabelsAndExplainingAnnotations) {
  AlertContext ctx{{{"env", "prod"}, {"instance", "web01"}, {"team", ""}}, "http://web01:10061/"};
  Alert a = FindingAlert(Blocked(1700000000), ctx);
  EXPECT_EQ(a.labels, (LabelSet{{"alertname", "PortwardenFinding"},
                                {"severity", "critical"},
                                {"kind", "blocked"},
                                {"rule", "web"},
                                {"proto", "tcp"},
                                {"address", "10.0.0.5"},
                                {"port", "80"},
                                {"owner", "http.sys:System:"},
                                {"finding_id", FindingId(Blocked().finding.key)},
                                {"env", "prod"},
                                {"instance", "web01"}}));
  EXPECT_EQ(a.annotations.at("summary"),
            "Expected listener blocked on tcp 10.0.0.5:80: http.sys (System, pid 4)");
  EXPECT_EQ(a.annotations.at("description"), Blocked().finding.explanation);
  EXPECT_EQ(a.annotations.at("remediation"), "netsh http add iplisten ipaddress=172.16.1.1");
  EXPECT_EQ(a.annotations.at("owner"), "http.sys (System, pid 4)");
  EXPECT_EQ(a.annotations.at("expected"), "process=nginx");
  EXPECT_FALSE(a.annotations.contains("other"));
  EXPECT_EQ(a.starts_at, 1700000000);
  EXPECT_FALSE(a.Resolved());
  EXPECT_EQ(a.generator_url, "http://web01:10061/");

  // The PID is in annotations only: a restarted owner keeps the alert's identity.
  auto restarted = Blocked(1700000000);
  restarted.finding.owner = "http.sys (System, pid 8)";
  EXPECT_EQ(FindingAlert(restarted, ctx).labels, a.labels);
  EXPECT_EQ(Fingerprint(FindingAlert(restarted, ctx).labels), Fingerprint(a.labels));
}

TEST(FindingAlert, SeverityPerKind) {
  EXPECT_EQ(Severity(policy::FindingKind::kMissing), "critical");
  EXPECT_EQ(Severity(policy::FindingKind::kWrongOwner), "critical");
  EXPECT_EQ(Severity(policy::FindingKind::kBlocked), "critical");
  EXPECT_EQ(Severity(policy::FindingKind::kConflict), "warning");
  EXPECT_EQ(Severity(policy::FindingKind::kUnexpected), "warning");
  EXPECT_EQ(Severity(policy::FindingKind::kChanged), "info");
}

TEST(FindingAlert, Ipv6EndpointInBrackets) {
  auto t = Blocked();
  t.finding.address = "2001:db8::5";
  EXPECT_EQ(FindingAlert(t, {}).annotations.at("summary"),
            "Expected listener blocked on tcp [2001:db8::5]:80: http.sys (System, pid 4)");
}

TEST(AlertmanagerPayload, PostableAlertsWithExpiry) {
  Alert firing = FindingAlert(Blocked(1700000000), {{}, "http://h:1/"});
  Alert resolved = firing;
  resolved.ends_at = 1700000100;
  auto j = nlohmann::json::parse(AlertmanagerPayload({firing, resolved}, 1700000050, 240));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["labels"]["kind"], "blocked");
  EXPECT_EQ(j[0]["annotations"]["summary"], firing.annotations.at("summary"));
  EXPECT_EQ(j[0]["startsAt"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j[0]["endsAt"], "2023-11-14T22:18:10.000Z");  // send time + 240 s
  EXPECT_EQ(j[0]["generatorURL"], "http://h:1/");
  EXPECT_EQ(j[1]["endsAt"], "2023-11-14T22:15:00.000Z");
  // No generatorURL key at all when there is none (Alertmanager validates it as a URI).
  firing.generator_url.clear();
  EXPECT_FALSE(
      nlohmann::json::parse(AlertmanagerPayload({firing}, 0, 1))[0].contains("generatorURL"));
}

TEST(AlertmanagerPayload, InvalidUtf8IsReplacedNotFatal) {
  Alert a;
  a.labels = {{"alertname", "X"}};
  a.annotations = {{"owner", std::string("ngin\xff")}};
  auto j = nlohmann::json::parse(AlertmanagerPayload({a}, 0, 1));
  EXPECT_EQ(j[0]["annotations"]["owner"], "ngin\xEF\xBF\xBD");
}

TEST(WebhookPayload, AlertmanagersWebhookShape) {
  Alert one = FindingAlert(Blocked(1700000000), {{{"env", "prod"}}, "http://h:1/"});
  auto other_finding = Blocked(1700000000);
  other_finding.finding.key += "|x";
  other_finding.finding.port = 443;
  Alert two = FindingAlert(other_finding, {{{"env", "prod"}}, "http://h:1/"});
  two.ends_at = 1700000100;
  auto j = nlohmann::json::parse(WebhookPayload({one, two}, "http://h:1"));
  EXPECT_EQ(j["version"], "4");
  EXPECT_EQ(j["status"], "firing");
  EXPECT_EQ(j["receiver"], "portwarden");
  EXPECT_EQ(j["externalURL"], "http://h:1");
  EXPECT_EQ(j["truncatedAlerts"], 0);
  EXPECT_TRUE(j["groupLabels"].is_object());
  EXPECT_EQ(j["commonLabels"]["env"], "prod");
  EXPECT_EQ(j["commonLabels"]["kind"], "blocked");
  EXPECT_FALSE(j["commonLabels"].contains("port"));
  ASSERT_EQ(j["alerts"].size(), 2u);
  EXPECT_EQ(j["alerts"][0]["status"], "firing");
  EXPECT_EQ(j["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["alerts"][0]["fingerprint"], Fingerprint(one.labels));
  EXPECT_EQ(j["alerts"][1]["status"], "resolved");
  EXPECT_EQ(j["alerts"][1]["endsAt"], "2023-11-14T22:15:00.000Z");
  EXPECT_EQ(nlohmann::json::parse(WebhookPayload({two}, ""))["status"], "resolved");
}

TEST(ParseHttpUrl, Forms) {
  auto u = ParseHttpUrl("http://am.example:9093");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->host, "am.example");
  EXPECT_EQ(u->port, 9093);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->HostHeader(), "am.example:9093");

  u = ParseHttpUrl("HTTP://[::1]:8080/hook?token=a");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->path, "/hook?token=a");
  EXPECT_EQ(u->HostHeader(), "[::1]:8080");

  u = ParseHttpUrl("http://hook?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "/?x=1");
}

TEST(ParseHttpUrl, ErrorsSayWhy) {
  struct Case {
    const char* url;
    const char* why;
  } cases[] = {
      {"am:9093", "expected http://host[:port][/path]"},
      {"https://am:9093", "https is not supported"},
      {"ftp://am", "expected an http:// URL"},
      {"http://user:pw@am:9093", "credentials in the URL are not supported"},
      {"http://:9093", "missing host"},
      {"http://am:", "empty port"},
      {"http://am:0", "invalid port \"0\""},
      {"http://am:70000", "invalid port \"70000\""},
      {"http://am:9o93", "invalid port \"9o93\""},
      {"http://[::1:9093", "unterminated [IPv6] address"},
      {"http://[::1]x", "expected :port after the [IPv6] address"},
      {"http://am/#top", "a fragment (#) is not allowed"},
  };
  for (const auto& c : cases) {
    auto u = ParseHttpUrl(c.url);
    ASSERT_FALSE(u) << c.url;
    EXPECT_NE(u.error().message.find(c.why), std::string::npos) << u.error().message;
    EXPECT_NE(u.error().message.find(c.url), std::string::npos) << u.error().message;
  }
}

TEST(AlertmanagerAlertsUrl, AppendsTheApiPath) {
  EXPECT_EQ(AlertmanagerAlertsUrl("http://am:9093")->path, "/api/v2/alerts");
  EXPECT_EQ(AlertmanagerAlertsUrl("http://am:9093/")->path, "/api/v2/alerts");
  EXPECT_EQ(AlertmanagerAlertsUrl("http://gw/alertmanager/")->path, "/alertmanager/api/v2/alerts");
  EXPECT_FALSE(AlertmanagerAlertsUrl("http://am:9093/?x=1"));
}

}  // namespace
}  // namespace portwarden::notifier
