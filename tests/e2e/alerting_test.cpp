// Alerting end to end, with the real servers on loopback: Prometheus (scraping portwarden
// every second, loading dashboards/prometheus/portwarden.rules.yml), Alertmanager (webhook to
// a sink this test runs) and portwarden (with an expectation and direct push to Alertmanager
// and to a second sink). Real processes provoke a port conflict and an owner change.
//
// The rules are the real file with one documented change: every `for:` is rewritten to 0s in
// the test's copy, so alerts fire at the first evaluation instead of after minutes; what the
// `for:` durations do is covered by promtool test rules (portwarden.rules_test.yml).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "exporter/notifier/alert.h"
#include "tests/support/test_support.h"
#include "tests/unit/notifier/receiver.h"
#include "tests/unit/notifier/temp_dir.h"

namespace portwarden::testing {
namespace {

using Json = nlohmann::json;
using notifier::testing::Receiver;
using notifier::testing::TempDir;
namespace fs = std::filesystem;

// Deadline for anything that goes through Prometheus' evaluation or Alertmanager's grouping.
constexpr std::chrono::seconds kPipeline(30);

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), len);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A server process whose stdout and stderr go to a log file (Prometheus logs too much for a
// pipe nobody drains). Killed on destruction.
class Server {
 public:
  Server(const std::vector<std::string>& argv, const fs::path& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Server() { Stop(SIGKILL); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  pid_t pid() const { return pid_; }
  /// Signals and waits for the exit; true if it exited within the deadline.
  bool Stop(int sig = SIGTERM) {
    if (pid_ <= 0) return true;
    kill(pid_, sig);
    int status;
    bool done = PollUntil([&] { return waitpid(pid_, &status, WNOHANG) == pid_; },
                          std::chrono::seconds(15));
    if (done) pid_ = -1;
    return done;
  }
  std::string Log() const { return ReadText(log_); }

 private:
  pid_t pid_ = -1;
  fs::path log_;
};

std::string Which(const std::string& program) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    fs::path p = fs::path(dir) / program;
    if (fs::exists(p)) return p.string();
  }
  return program;
}

// All the JSON payloads a sink was sent.
std::vector<Json> Payloads(const Receiver& sink) {
  std::vector<Json> out;
  for (const auto& r : sink.Requests()) out.push_back(Json::parse(r.body, nullptr, false));
  return out;
}

// Alerts (of webhook payloads from `first` on) with these labels and status.
std::vector<Json> WebhookAlerts(const Receiver& sink,
                                const std::map<std::string, std::string>& labels,
                                const std::string& status, size_t first = 0) {
  std::vector<Json> out;
  auto payloads = Payloads(sink);
  for (size_t i = first; i < payloads.size(); ++i) {
    if (!payloads[i].is_object() || !payloads[i].contains("alerts")) continue;
    for (const auto& a : payloads[i]["alerts"]) {
      bool match = a.value("status", "") == status;
      for (const auto& [k, v] : labels) match = match && a["labels"].value(k, "") == v;
      if (match) out.push_back(a);
    }
  }
  return out;
}

// The whole set-up: servers, sinks, port holders, files.
class Stack {
 public:
  Stack()
      : pw_port_(FreePort()),
        prom_port_(FreePort()),
        am_port_(FreePort()),
        port_(FreePort()),
        start_(Now()) {
    // Copies of the holder under the names the expectation and the findings talk about.
    for (const char* name : {"nginx", "squatter", "impostor"}) {
      fs::copy_file(PORTWARDEN_PORT_HOLDER, dir_.path() / name);
    }
    fs::create_directories(dir_.path() / "prometheus");
    fs::create_directories(dir_.path() / "alertmanager");
    WriteRules();
    WriteText(dir_.path() / "alertmanager.yml", R"(route:
  receiver: sink
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: )" + am_sink_.url() + R"(/am
        send_resolved: true
)");
    WriteText(dir_.path() / "prometheus.yml", R"(global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [")" + (dir_.path() / "rules.yml").string() +
                                                  R"("]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:)" + std::to_string(am_port_) +
                                                  R"("]
scrape_configs:
  - job_name: portwarden
    static_configs:
      - targets: ["127.0.0.1:)" + std::to_string(pw_port_) +
                                                  R"("]
)");
    WriteText(dir_.path() / "portwarden.yml", R"(collect:
  interval: 500ms
listeners:
  include_ports: [)" + std::to_string(port_) + R"(]
expect:
  - name: web
    listen: 127.0.0.1:)" + std::to_string(port_) + R"(/tcp
    owner: {process: nginx}
alerting:
  alertmanagers: ["http://127.0.0.1:)" + std::to_string(am_port_) +
                                                  R"("]
  webhooks: [")" + pw_sink_.url() + R"(/portwarden"]
  labels: {env: e2e}
  resend_interval: 5s
  timeout: 2s
  backoff: {initial: 200ms, max: 1s}
  queue:
    path: )" + (dir_.path() / "queue" / "alerts.json").string() +
                                                  R"(
    max_entries: 1000
)");
  }

  int port() const { return port_; }
  int pw_port() const { return pw_port_; }
  double start() const { return start_; }
  Receiver& am_sink() { return am_sink_; }
  Receiver& pw_sink() { return pw_sink_; }
  std::string am_url() const { return "http://127.0.0.1:" + std::to_string(am_port_); }
  fs::path Holder(const char* name) const { return dir_.path() / name; }
  int alert_rules() const { return alert_rules_; }

  void StartAlertmanager() {
    am_ = std::make_unique<Server>(
        std::vector<std::string>{Which("prometheus-alertmanager"),
                                 "--config.file=" + (dir_.path() / "alertmanager.yml").string(),
                                 "--storage.path=" + (dir_.path() / "alertmanager").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(am_port_),
                                 "--cluster.listen-address="},
        dir_.path() / "alertmanager.log");
    ASSERT_TRUE(PollUntil([&] { return HttpGet("127.0.0.1", am_port_, "/-/ready").status == 200; },
                          kPipeline))
        << am_->Log();
  }
  void StopAlertmanager() { ASSERT_TRUE(am_->Stop()) << am_->Log(); }

  void StartPrometheus() {
    prom_ = std::make_unique<Server>(
        std::vector<std::string>{Which("prometheus"),
                                 "--config.file=" + (dir_.path() / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_.path() / "prometheus").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_),
                                 "--rules.alert.resend-delay=1s"},
        dir_.path() / "prometheus.log");
    ASSERT_TRUE(PollUntil(
        [&] { return HttpGet("127.0.0.1", prom_port_, "/-/ready").status == 200; }, kPipeline))
        << prom_->Log();
  }

  void StartPortwarden() {
    pw_ = std::make_unique<Server>(
        std::vector<std::string>{PortwardenBinary(),
                                 "--config.file=" + (dir_.path() / "portwarden.yml").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(pw_port_)},
        dir_.path() / "portwarden.log");
    ASSERT_TRUE(PollUntil([&] { return HttpGet("127.0.0.1", pw_port_, "/-/ready").status == 200; }))
        << pw_->Log();
  }
  Server& portwarden() { return *pw_; }

  std::string Metrics() const { return HttpGet("127.0.0.1", pw_port_, "/metrics").body; }

  /// The value of the series `series` (name and labels exactly as exposed), or -1.
  double Metric(const std::string& series) const {
    const std::string text = Metrics();
    const size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
  }

  Json Prom(const std::string& path_and_query) const {
    auto r = HttpGet("127.0.0.1", prom_port_, path_and_query);
    return Json::parse(r.body, nullptr, false);
  }

  /// Prometheus' alert of that name on our port in that state ("firing", "pending").
  bool PromAlert(const std::string& name, const std::string& state) const {
    Json j = Prom("/api/v1/alerts");
    if (!j.is_object() || !j.contains("data")) return false;
    for (const auto& a : j["data"]["alerts"]) {
      if (a["labels"].value("alertname", "") == name &&
          a["labels"].value("port", "") == std::to_string(port_) && a.value("state", "") == state) {
        return true;
      }
    }
    return false;
  }

  /// Alertmanager's active alerts matching the label filters (name="value").
  Json AmAlerts(const std::vector<std::string>& filters) const {
    std::string path = "/api/v2/alerts?active=true";
    for (const auto& f : filters) path += "&filter=" + UrlEncode(f);
    return Json::parse(HttpGet("127.0.0.1", am_port_, path).body, nullptr, false);
  }
  bool AmActive(const std::vector<std::string>& filters) const {
    Json j = AmAlerts(filters);
    return j.is_array() && !j.empty();
  }

 private:
  // The real rules with every `for:` set to 0s (see the file comment).
  void WriteRules() {
    const std::string rules =
        ReadText(fs::path(PORTWARDEN_DASHBOARDS_DIR) / "prometheus" / "portwarden.rules.yml");
    static const std::regex kFor(R"((\n\s+)for: \S+)");
    static const std::regex kAlert(R"(\n\s+- alert: )");
    alert_rules_ = static_cast<int>(std::distance(
        std::sregex_iterator(rules.begin(), rules.end(), kAlert), std::sregex_iterator()));
    WriteText(dir_.path() / "rules.yml", std::regex_replace(rules, kFor, "$1for: 0s"));
  }

  TempDir dir_;
  int pw_port_, prom_port_, am_port_, port_;
  double start_;
  int alert_rules_ = 0;
  Receiver am_sink_;  // Alertmanager's webhook receiver
  Receiver pw_sink_;  // portwarden's own webhook
  std::unique_ptr<Server> am_, prom_, pw_;
};

// A port holder process under one of the copied names.
std::unique_ptr<Server> Hold(const Stack& s, const char* name, const char* address,
                             const char* next = nullptr) {
  std::vector<std::string> argv = {s.Holder(name).string(), address, std::to_string(s.port())};
  if (next) argv.push_back(s.Holder(next).string());
  return std::make_unique<Server>(argv, s.Holder(name).string() + ".log");
}

// Every expression of a dashboard panel, with its title; rows' nested panels included.
struct PanelQuery {
  std::string dashboard;
  std::string panel;
  std::string expr;
};

std::vector<PanelQuery> DashboardQueries(const std::string& file, const Json& dashboard) {
  std::vector<PanelQuery> out;
  std::function<void(const Json&)> walk = [&](const Json& panels) {
    for (const auto& p : panels) {
      if (p.contains("panels")) walk(p["panels"]);
      if (!p.contains("targets")) continue;
      for (const auto& t : p["targets"])
        out.push_back({file, p.value("title", ""), t.value("expr", "")});
    }
  };
  walk(dashboard["panels"]);
  return out;
}

// Panels whose metrics only the Windows HTTP.sys collector exports: on Linux their queries
// can only be checked to parse. Keyed by panel title; the test also checks that this list is
// exactly the panels that use portwarden_httpsys_ metrics.
const std::map<std::string, std::string> kWindowsOnly = {
    {"HTTP.sys restart pending", "portwarden_httpsys_iplisten_pending_restart: Windows only"},
    {"HTTP.sys IP listen list", "portwarden_httpsys_iplisten_info: Windows only"},
    {"Latent conflicts", "portwarden_httpsys_latent_conflict: Windows only"},
    {"URL reservations", "portwarden_httpsys_urlacl_info: Windows only"},
    {"Unexpected URL reservations", "portwarden_httpsys_urlacl_unexpected: Windows only"},
    {"TLS bindings", "portwarden_httpsys_sslcert_*: Windows only"},
    {"Request queues", "portwarden_httpsys_request_queue_info: Windows only"},
};

TEST(Alerting, RulesPushWebhookQueueAndDashboardsWithRealServers) {
  Stack s;
  // The expected owner first, so portwarden's first cycle already finds it in place.
  auto nginx = Hold(s, "nginx", "127.0.0.1", "impostor");
  ASSERT_NO_FATAL_FAILURE(s.StartAlertmanager());
  ASSERT_NO_FATAL_FAILURE(s.StartPortwarden());
  ASSERT_NO_FATAL_FAILURE(s.StartPrometheus());
  const std::string port = std::to_string(s.port());
  const std::string am_sent =
      "portwarden_notifications_sent_total{alertmanager=\"" + s.am_url() + "\"}";
  const std::string am_failed =
      "portwarden_notifications_failed_total{alertmanager=\"" + s.am_url() + "\"}";

  // Prometheus loaded every rule of the file.
  ASSERT_TRUE(PollUntil(
      [&] {
        Json j = s.Prom("/api/v1/rules?type=alert");
        int n = 0;
        if (j.is_object() && j.contains("data")) {
          for (const auto& g : j["data"]["groups"]) n += static_cast<int>(g["rules"].size());
        }
        return n == s.alert_rules();
      },
      kPipeline));
  EXPECT_EQ(s.alert_rules(), 19);

  // --- The expected owner alone: nothing to report. -----------------------------------
  ASSERT_TRUE(PollUntil([&] {
    return s.Metric("portwarden_expectation_satisfied{rule=\"web\"}") == 1;
  })) << s.Metrics();
  EXPECT_EQ(s.Metric("portwarden_findings{kind=\"conflict\"}"), 0) << s.Metrics();
  EXPECT_EQ(s.Metrics().find("portwarden_finding{"), std::string::npos) << s.Metrics();

  // --- A squatter binds 0.0.0.0 on the same port: a conflict. --------------------------
  {
    SCOPED_TRACE("conflict raised");
    auto squatter = Hold(s, "squatter", "0.0.0.0");
    ASSERT_TRUE(PollUntil([&] {
      const std::string m = s.Metrics();
      return m.find("portwarden_finding{kind=\"conflict\"") != std::string::npos &&
             m.find("port=\"" + port + "\"") != std::string::npos;
    })) << s.Metrics();
    // Prometheus' rule fires and reaches Alertmanager.
    EXPECT_TRUE(
        PollUntil([&] { return s.PromAlert("PortwardenPortConflict", "firing"); }, kPipeline));
    EXPECT_TRUE(PollUntil(
        [&] {
          return s.AmActive({"alertname=\"PortwardenPortConflict\"", "port=\"" + port + "\""});
        },
        kPipeline));
    // The direct push reaches Alertmanager, with the static label.
    EXPECT_TRUE(PollUntil(
        [&] {
          return s.AmActive({"alertname=\"PortwardenFinding\"", "kind=\"conflict\"",
                             "port=\"" + port + "\"", "env=\"e2e\""});
        },
        kPipeline));
    EXPECT_GE(s.Metric(am_sent), 1);
    const std::string metrics = s.Metrics();
    EXPECT_NE(metrics.find("# TYPE portwarden_notification_queue_length gauge"), std::string::npos);
    auto promtool = RunCommand("promtool check metrics", metrics);
    EXPECT_EQ(promtool.status, 0) << promtool.output;
    // Alertmanager's webhook delivers both; its fingerprints are ours.
    EXPECT_TRUE(PollUntil(
        [&] {
          return !WebhookAlerts(s.am_sink(),
                                {{"alertname", "PortwardenPortConflict"}, {"port", port}}, "firing")
                      .empty() &&
                 !WebhookAlerts(s.am_sink(),
                                {{"alertname", "PortwardenFinding"}, {"kind", "conflict"}},
                                "firing")
                      .empty();
        },
        kPipeline));
    for (const auto& a :
         WebhookAlerts(s.am_sink(), {{"alertname", "PortwardenFinding"}}, "firing")) {
      notifier::LabelSet labels;
      for (const auto& [k, v] : a["labels"].items()) labels[k] = v.get<std::string>();
      EXPECT_EQ(a["fingerprint"], notifier::Fingerprint(labels));
      EXPECT_FALSE(a["annotations"].value("description", "").empty());
    }
    // portwarden's own webhook gets the same shape.
    EXPECT_TRUE(PollUntil([&] {
      return !WebhookAlerts(s.pw_sink(), {{"kind", "conflict"}, {"port", port}}, "firing").empty();
    }));
    EXPECT_EQ(Payloads(s.pw_sink()).at(0)["version"], "4");

    // --- Resolving the conflict resolves every alert. ---------------------------------
    squatter->Stop();
  }
  ASSERT_TRUE(PollUntil([&] {
    return s.Metrics().find("portwarden_finding{kind=\"conflict\"") == std::string::npos;
  })) << s.Metrics();
  EXPECT_TRUE(
      PollUntil([&] { return !s.PromAlert("PortwardenPortConflict", "firing"); }, kPipeline));
  EXPECT_TRUE(PollUntil(
      [&] {
        return !s.AmActive({"alertname=\"PortwardenPortConflict\"", "port=\"" + port + "\""}) &&
               !s.AmActive({"alertname=\"PortwardenFinding\"", "kind=\"conflict\""});
      },
      kPipeline));
  EXPECT_TRUE(PollUntil(
      [&] {
        return !WebhookAlerts(s.am_sink(),
                              {{"alertname", "PortwardenPortConflict"}, {"port", port}}, "resolved")
                    .empty() &&
               !WebhookAlerts(s.am_sink(),
                              {{"alertname", "PortwardenFinding"}, {"kind", "conflict"}},
                              "resolved")
                    .empty();
      },
      kPipeline));
  EXPECT_TRUE(PollUntil([&] {
    return !WebhookAlerts(s.pw_sink(), {{"kind", "conflict"}}, "resolved").empty();
  }));

  // --- Receivers down: the resolve of a second conflict waits in the queue, through a
  // kill -9 and a restart of portwarden, and arrives once they are back. ---------------
  {
    SCOPED_TRACE("outage");
    const double sent_before = s.Metric(am_sent);
    const size_t hook_before = s.pw_sink().Requests().size();
    auto squatter = Hold(s, "squatter", "0.0.0.0");
    ASSERT_TRUE(PollUntil(
        [&] {
          return s.AmActive({"alertname=\"PortwardenFinding\"", "kind=\"conflict\""}) &&
                 s.Metric(am_sent) > sent_before &&
                 !WebhookAlerts(s.pw_sink(), {{"kind", "conflict"}}, "firing", hook_before).empty();
        },
        kPipeline));
    const std::string starts_at =
        WebhookAlerts(s.pw_sink(), {{"kind", "conflict"}}, "firing", hook_before)[0]["startsAt"];

    s.StopAlertmanager();
    s.pw_sink().Answer(503);
    squatter->Stop();
    // Two resolves (Alertmanager, webhook) queued, and sends to Alertmanager failing.
    ASSERT_TRUE(PollUntil([&] {
      return s.Metric("portwarden_notification_queue_length") >= 2 && s.Metric(am_failed) > 0;
    })) << s.Metrics();
    ASSERT_TRUE(s.portwarden().Stop(SIGKILL));
    ASSERT_NO_FATAL_FAILURE(s.StartPortwarden());
    // The new process read the queue: nothing was lost.
    EXPECT_GE(s.Metric("portwarden_notification_queue_length"), 2) << s.Metrics();

    const size_t seen = s.pw_sink().Requests().size();
    s.pw_sink().Answer(200);
    ASSERT_NO_FATAL_FAILURE(s.StartAlertmanager());
    EXPECT_TRUE(PollUntil(
        [&] {
          for (const auto& a :
               WebhookAlerts(s.pw_sink(), {{"kind", "conflict"}}, "resolved", seen)) {
            if (a["startsAt"] == starts_at) return true;  // raised by the killed process
          }
          return false;
        },
        kPipeline))
        << s.portwarden().Log();
    // The new process has nothing else for Alertmanager (no finding is active, none was
    // firing): what it sends there is the queued resolve.
    EXPECT_TRUE(PollUntil(
        [&] {
          return s.Metric("portwarden_notification_queue_length") == 0 && s.Metric(am_sent) >= 1;
        },
        kPipeline))
        << s.Metrics();
  }

  // --- The owner changes under the same socket (nginx execs into "impostor"): a changed
  // and a wrong_owner finding, through the rules and the push. --------------------------
  {
    SCOPED_TRACE("owner change");
    kill(nginx->pid(), SIGUSR1);
    ASSERT_TRUE(PollUntil([&] {
      return s.Metric("portwarden_owner_changes_total{proto=\"tcp\",port=\"" + port + "\"}") == 1;
    })) << s.Metrics();
    EXPECT_TRUE(
        PollUntil([&] { return s.PromAlert("PortwardenWrongOwner", "firing"); }, kPipeline));
    EXPECT_TRUE(PollUntil(
        [&] {
          return s.AmActive({"alertname=\"PortwardenWrongOwner\"", "owner=~\".*impostor.*\""}) &&
                 s.AmActive({"alertname=\"PortwardenFinding\"", "kind=\"wrong_owner\""});
        },
        kPipeline));
    EXPECT_TRUE(PollUntil([&] {
      return !WebhookAlerts(s.pw_sink(), {{"kind", "changed"}, {"severity", "info"}}, "firing")
                  .empty();
    }));
    // Prometheus has the new counter, so the ownership panels have something to show.
    EXPECT_TRUE(PollUntil(
        [&] {
          Json j = s.Prom("/api/v1/query?query=portwarden_owner_changes_total");
          return j.is_object() && j.contains("data") && !j["data"]["result"].empty();
        },
        kPipeline));
  }

  // --- A failed bind of this process on a port no expectation lists: counted, and the
  // bind watch panel has something to show (no finding: nothing expects that port); two
  // samples, so that its increase() has a value. ------------------------------------
  {
    const int held = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int second = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(bind(held, reinterpret_cast<sockaddr*>(&a), len), 0);
    ASSERT_EQ(listen(held, 1), 0);
    ASSERT_EQ(getsockname(held, reinterpret_cast<sockaddr*>(&a), &len), 0);
    EXPECT_NE(bind(second, reinterpret_cast<sockaddr*>(&a), len), 0);
    EXPECT_EQ(errno, EADDRINUSE);
    close(second);
    close(held);
    const std::string failed_port = std::to_string(ntohs(a.sin_port));
    EXPECT_TRUE(PollUntil(
        [&] {
          Json j = s.Prom("/api/v1/query?query=" +
                          UrlEncode("count_over_time(portwarden_bind_failures_total{port=\"" +
                                    failed_port + "\",errno=\"EADDRINUSE\"}[1m]) >= 2"));
          return j.is_object() && j.contains("data") && !j["data"]["result"].empty();
        },
        kPipeline));
  }

  // --- A port published by a DNAT rule alone (nft, in a namespace of its own, on the one
  // port the config includes; the expectation is the host's): the host dashboard's
  // ownership table joins where it forwards to onto its listener. -----------------------
  {
    const std::string ns = "pw-alert-" + std::to_string(getpid());
    struct Netns {
      std::string name;
      ~Netns() { RunCommand("ip netns delete " + name + " 2>/dev/null"); }
    } netns{ns};
    const std::string in = "ip netns exec " + ns + " ";
    CommandResult made = RunCommand(
        "ip netns add " + ns + " && " + in + "nft add table ip pw && " + in +
        "nft add chain ip pw pre '{ type nat hook prerouting priority -100; }' && " + in +
        "nft add rule ip pw pre tcp dport " + port + " dnat to 10.213.0.9:443");
    ASSERT_EQ(made.status, 0) << made.output;
    const Json dashboard = Json::parse(
        ReadText(fs::path(PORTWARDEN_DASHBOARDS_DIR) / "grafana" / "portwarden-host.json"));
    std::string table;
    for (const PanelQuery& q : DashboardQueries("portwarden-host.json", dashboard)) {
      if (q.panel == "Current port ownership") table = q.expr;
    }
    ASSERT_FALSE(table.empty());
    table = std::regex_replace(table, std::regex(R"(\$job)"), "portwarden");
    table = std::regex_replace(table, std::regex(R"(\$instance)"),
                               "127.0.0.1:" + std::to_string(s.pw_port()));
    Json row, last;
    EXPECT_TRUE(PollUntil(
        [&] {
          Json j = last = s.Prom("/api/v1/query?query=" + UrlEncode(table));
          if (!j.is_object() || !j.contains("data")) return false;
          for (const auto& r : j["data"]["result"]) {
            if (r["metric"].value("forwards_to", "") == "10.213.0.9:443") row = r["metric"];
          }
          return !row.is_null();
        },
        kPipeline))
        << table << "\n" << last.dump().substr(0, 4000) << "\n"
        << s.Prom("/api/v1/query?query=" + UrlEncode("portwarden_nat_forward_info")).dump();
    ASSERT_TRUE(row.is_object());
    EXPECT_EQ(row.value("kind", ""), "nat") << row.dump();
    EXPECT_EQ(row.value("port", ""), port) << row.dump();
    EXPECT_EQ(row.value("netns_name", ""), ns) << row.dump();
  }

  // --- Every dashboard query against this Prometheus, over the whole test. ------------
  // Whole seconds back from now, so the last step of each range query is now itself.
  const double end = Now();
  const int seconds = static_cast<int>(end - s.start()) + 1;
  const double start = end - seconds;
  const std::string range = std::to_string(seconds) + "s";
  std::set<std::string> windows_titles;
  for (const char* file : {"portwarden-fleet.json", "portwarden-host.json"}) {
    const Json dashboard =
        Json::parse(ReadText(fs::path(PORTWARDEN_DASHBOARDS_DIR) / "grafana" / file));
    for (const auto& v : dashboard["templating"]["list"]) {
      // label_values(METRIC, LABEL) -> /api/v1/label/LABEL/values?match[]=METRIC
      static const std::regex kLabelValues(R"(label_values\((.*),\s*(\w+)\))");
      std::smatch m;
      const std::string def = v["definition"];
      ASSERT_TRUE(std::regex_match(def, m, kLabelValues)) << def;
      const std::string match =
          std::regex_replace(m[1].str(), std::regex(R"(\$job)"), "portwarden");
      Json values = s.Prom("/api/v1/label/" + m[2].str() + "/values?match[]=" + UrlEncode(match));
      EXPECT_EQ(values.value("status", ""), "success") << file << " $" << v["name"];
      EXPECT_FALSE(values["data"].empty()) << file << " $" << v["name"] << ": " << def;
    }
    for (const PanelQuery& q : DashboardQueries(file, dashboard)) {
      std::string expr = q.expr;
      for (auto [var, value] :
           {std::pair{"\\$job", std::string("portwarden")},
            std::pair{"\\$instance", "127.0.0.1:" + std::to_string(s.pw_port())},
            std::pair{"\\$__rate_interval", std::string("5s")},
            std::pair{"\\$__interval", std::string("1s")}, std::pair{"\\$__range", range}}) {
        expr = std::regex_replace(expr, std::regex(var), value);
      }
      const bool windows = kWindowsOnly.contains(q.panel);
      EXPECT_EQ(windows, q.expr.find("portwarden_httpsys_") != std::string::npos)
          << q.dashboard << " / " << q.panel << ": Windows-only list and query disagree";
      if (windows) windows_titles.insert(q.panel);
      Json r = s.Prom("/api/v1/query_range?query=" + UrlEncode(expr) + "&start=" +
                      std::to_string(start) + "&end=" + std::to_string(end) + "&step=1");
      ASSERT_EQ(r.value("status", ""), "success")
          << q.dashboard << " / " << q.panel << ": " << expr << "\n"
          << r.dump();
      if (!windows) {
        EXPECT_FALSE(r["data"]["result"].empty())
            << q.dashboard << " / " << q.panel << " returned nothing: " << expr;
      }
    }
  }
  EXPECT_EQ(windows_titles.size(), kWindowsOnly.size());
}

}  // namespace
}  // namespace portwarden::testing
