// The Notifier with real receivers (CivetWeb servers on loopback) and a real queue file.
#include "exporter/notifier/notifier.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>
#include <spdlog/sinks/ostream_sink.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exporter/notifier/os.h"
#include "tests/unit/notifier/findings.h"
#include "tests/unit/notifier/receiver.h"
#include "tests/unit/notifier/temp_dir.h"

namespace portwarden::notifier {
namespace {

using testing::ActiveOf;
using testing::Blocked;
using testing::Receiver;
using testing::TempDir;

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A logger whose lines the test can read.
struct CapturedLog {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger = std::make_shared<spdlog::logger>(
      "notifier", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  std::string Text() {
    logger->flush();
    return out.str();
  }
};

AlertingConfig Config(const std::string& am, const std::string& hook, const TempDir& dir) {
  AlertingConfig c;
  if (!am.empty()) c.alertmanagers = {am};
  if (!hook.empty()) c.webhooks = {hook};
  c.labels = {{"env", "test"}, {"instance", "web01"}};
  c.backoff_initial = std::chrono::milliseconds(20);
  c.backoff_max = std::chrono::milliseconds(50);
  c.timeout = std::chrono::seconds(5);
  c.queue_path = dir.File("queue/alerts.json");
  return c;
}

std::string Metrics(const Notifier& n) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, n.Collect());
  return out.str();
}

TEST(Notifier, PushesRaiseAndResolveToAlertmanagerAndWebhook) {
  Receiver am, hook;
  TempDir dir;
  CapturedLog log;
  Notifier n(log.logger);
  ASSERT_TRUE(n.Configure(Config(am.url(), hook.url() + "/hook", dir), "http://web01:10061"));

  const double now = Now();
  n.Observe(ActiveOf({Blocked(now)}), now);
  ASSERT_TRUE(am.WaitForRequests(1));
  ASSERT_TRUE(hook.WaitForRequests(1));
  auto req = am.Requests()[0];
  EXPECT_EQ(req.uri, "/api/v2/alerts");
  auto alerts = nlohmann::json::parse(req.body);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "PortwardenFinding");
  EXPECT_EQ(alerts[0]["labels"]["kind"], "blocked");
  EXPECT_EQ(alerts[0]["labels"]["env"], "test");
  EXPECT_EQ(alerts[0]["labels"]["instance"], "web01");
  EXPECT_EQ(alerts[0]["generatorURL"], "http://web01:10061/");
  EXPECT_EQ(alerts[0]["startsAt"], FormatRfc3339(now));
  auto webhook = nlohmann::json::parse(hook.Requests()[0].body);
  EXPECT_EQ(hook.Requests()[0].uri, "/hook");
  EXPECT_EQ(webhook["status"], "firing");
  EXPECT_EQ(webhook["externalURL"], "http://web01:10061");
  EXPECT_EQ(webhook["alerts"][0]["labels"]["kind"], "blocked");

  n.Observe({}, now + 1);
  ASSERT_TRUE(am.WaitForRequests(2));
  ASSERT_TRUE(hook.WaitForRequests(2));
  alerts = nlohmann::json::parse(am.Requests()[1].body);
  EXPECT_EQ(alerts[0]["endsAt"], FormatRfc3339(now + 1));
  EXPECT_EQ(nlohmann::json::parse(hook.Requests()[1].body)["status"], "resolved");

  n.Stop();  // sends in flight have completed
  const std::string metrics = Metrics(n);
  EXPECT_NE(
      metrics.find("portwarden_notifications_sent_total{alertmanager=\"" + am.url() + "\"} 2"),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("portwarden_notifications_sent_total{alertmanager=\"" + hook.url() +
                         "/hook\"} 2"),
            std::string::npos);
  EXPECT_NE(
      metrics.find("portwarden_notifications_failed_total{alertmanager=\"" + am.url() + "\"} 0"),
      std::string::npos);
  EXPECT_NE(metrics.find("portwarden_notification_queue_length 0"), std::string::npos);
  EXPECT_NE(metrics.find("portwarden_notifications_dropped_total 0"), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE portwarden_notifications_sent_total counter"), std::string::npos);
}

TEST(Notifier, QueuesWhileTheReceiverIsDownAndDeliversAfterARestart) {
  Receiver am;
  TempDir dir;
  const AlertingConfig config = Config(am.url(), "", dir);
  const double now = Now();
  {
    CapturedLog log;
    Notifier n(log.logger);
    am.Answer(503, "unavailable");
    ASSERT_TRUE(n.Configure(config, "http://web01:10061"));
    n.Observe(ActiveOf({Blocked(now)}), now);
    ASSERT_TRUE(am.WaitForRequests(4));  // the first send and three retries
    n.Stop();
    EXPECT_EQ(n.QueueLength(), 1u);
    const std::string metrics = Metrics(n);
    EXPECT_NE(metrics.find("portwarden_notification_queue_length 1"), std::string::npos);
    EXPECT_EQ(
        metrics.find("portwarden_notifications_failed_total{alertmanager=\"" + am.url() + "\"} 0"),
        std::string::npos);
    // One warning per outage, not one per retry.
    const std::string text = log.Text();
    const std::string warning = "cannot send alerts; they stay queued and are retried";
    ASSERT_NE(text.find(warning), std::string::npos) << text;
    EXPECT_EQ(text.find(warning), text.rfind(warning)) << text;
    EXPECT_NE(text.find("HTTP 503: unavailable"), std::string::npos) << text;
  }
  // The queue file outlived the notifier; a new one sends its content without being told
  // anything new.
  am.Answer(200);
  const size_t before = am.Requests().size();
  CapturedLog log;
  Notifier n(log.logger);
  ASSERT_TRUE(n.Configure(config, "http://web01:10061"));
  ASSERT_TRUE(am.WaitForRequests(before + 1));
  n.Stop();
  auto alerts = nlohmann::json::parse(am.Requests()[before].body);
  EXPECT_EQ(alerts[0]["labels"]["kind"], "blocked");
  EXPECT_EQ(alerts[0]["startsAt"], FormatRfc3339(now));
  EXPECT_EQ(n.QueueLength(), 0u);
  EXPECT_NE(log.Text().find("alert queue loaded"), std::string::npos);
}

TEST(Notifier, RejectedAlertsAreDroppedAndCounted) {
  Receiver am;
  TempDir dir;
  CapturedLog log;
  Notifier n(log.logger);
  am.Answer(400, "bad alert");
  ASSERT_TRUE(n.Configure(Config(am.url(), "", dir), "http://web01:10061"));
  n.Observe(ActiveOf({Blocked(Now())}), Now());
  ASSERT_TRUE(am.WaitForRequests(1));
  n.Stop();
  EXPECT_EQ(n.QueueLength(), 0u);
  EXPECT_NE(Metrics(n).find("portwarden_notifications_dropped_total 1"), std::string::npos);
  EXPECT_NE(log.Text().find("receiver rejected alerts; dropped"), std::string::npos);
}

TEST(Notifier, BadQueueFilesFailConfigureAndChangeNothing) {
  TempDir dir;
  CapturedLog log;
  Notifier n(log.logger);
  AlertingConfig c = Config("http://127.0.0.1:9", "", dir);

  std::ofstream(dir.File("file")) << "x";
  c.queue_path = dir.File("file") + "/alerts.json";
  auto r = n.Configure(c, "http://h:1");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("alerting.queue.path: cannot create directory"),
            std::string::npos)
      << r.error().message;

  c.queue_path = dir.File("garbage.json");
  std::ofstream(c.queue_path) << "{\"not\": \"a queue\"}";
  r = n.Configure(c, "http://h:1");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a readable alert queue"), std::string::npos);
  EXPECT_NE(r.error().message.find("move it away"), std::string::npos);
  EXPECT_EQ(Metrics(n).find("alertmanager="), std::string::npos);  // still disabled
}

TEST(Notifier, LeftoverTemporaryFileIsRemovedAndTheQueueKept) {
  TempDir dir;
  AlertingConfig c = Config("http://127.0.0.1:9", "", dir);
  c.queue_path = dir.File("alerts.json");
  {
    CapturedLog log;
    Notifier n(log.logger);
    ASSERT_TRUE(n.Configure(c, "http://h:1"));
    n.Observe(ActiveOf({Blocked(Now())}), Now());
    n.Stop();
  }
  std::ofstream(c.queue_path + ".tmp") << "{\"portwarden_alert_queue\": 1, \"ent";
  CapturedLog log;
  Notifier n(log.logger);
  ASSERT_TRUE(n.Configure(c, "http://h:1"));
  EXPECT_FALSE(std::filesystem::exists(c.queue_path + ".tmp"));
  EXPECT_EQ(n.QueueLength(), 1u);
}

TEST(Notifier, ReconfigureAndDisable) {
  Receiver am, other;
  TempDir dir;
  CapturedLog log;
  Notifier n(log.logger);
  am.Answer(503);
  AlertingConfig c = Config(am.url(), "", dir);
  ASSERT_TRUE(n.Configure(c, "http://h:1"));
  n.Observe(ActiveOf({Blocked(Now())}), Now());
  ASSERT_TRUE(am.WaitForRequests(1));
  // The same config again changes nothing.
  ASSERT_TRUE(n.Configure(c, "http://h:1"));
  EXPECT_EQ(n.QueueLength(), 1u);
  // Another receiver instead: the old one's entries go (counted), the new one is sent what
  // fires at once.
  c.alertmanagers = {other.url()};
  ASSERT_TRUE(n.Configure(c, "http://h:1"));
  EXPECT_NE(Metrics(n).find("portwarden_notifications_dropped_total 1"), std::string::npos);
  ASSERT_TRUE(other.WaitForRequests(1));
  EXPECT_EQ(nlohmann::json::parse(other.Requests()[0].body)[0]["labels"]["kind"], "blocked");
  // A new queue path takes the state along and leaves no file behind.
  const std::string old_path = c.queue_path;
  c.queue_path = dir.File("moved/alerts.json");
  ASSERT_TRUE(n.Configure(c, "http://h:1"));
  EXPECT_FALSE(std::filesystem::exists(old_path));
  EXPECT_TRUE(std::filesystem::exists(c.queue_path));
  EXPECT_NE(log.Text().find("alert queue moved"), std::string::npos);
  // Alerting off: senders stop, the rest is counted as dropped, metrics stay.
  ASSERT_TRUE(n.Configure(std::nullopt, "http://h:1"));
  EXPECT_EQ(n.QueueLength(), 0u);
  EXPECT_NE(log.Text().find("alerting disabled"), std::string::npos);
  const std::string metrics = Metrics(n);
  EXPECT_EQ(metrics.find("alertmanager="), std::string::npos);
  EXPECT_NE(metrics.find("portwarden_notification_queue_length 0"), std::string::npos);
}

}  // namespace
}  // namespace portwarden::notifier
