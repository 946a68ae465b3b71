#include "exporter/notifier/notifier.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <chrono>

#include "collectors/common/clock.h"
#include "exporter/logging.h"
#include "exporter/notifier/http_client.h"
#include "exporter/notifier/os.h"
#include "exporter/notifier/payload.h"

namespace portwarden::notifier {
namespace {

double Seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

CoreSettings MakeSettings(const AlertingConfig& config, const std::string& external_url) {
  CoreSettings s;
  s.targets = config.alertmanagers;
  s.targets.insert(s.targets.end(), config.webhooks.begin(), config.webhooks.end());
  s.context.static_labels = config.labels;
  // Without an instance label, alerts of a fleet would be indistinguishable.
  s.context.static_labels.try_emplace("instance", HostName());
  s.context.generator_url = external_url + "/";
  s.resend_interval = Seconds(config.resend_interval);
  s.backoff_initial = Seconds(config.backoff_initial);
  s.backoff_max = Seconds(config.backoff_max);
  s.max_entries = config.queue_max_entries;
  return s;
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {}};
}

void AddValue(prometheus::MetricFamily& family, std::vector<prometheus::ClientMetric::Label> labels,
              double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family.metric.push_back(std::move(m));
}

}  // namespace

Notifier::Notifier(std::shared_ptr<spdlog::logger> logger)
    : logger_(std::move(logger)), core_(CoreSettings{}), rng_(std::random_device{}()) {}

Notifier::~Notifier() { Stop(); }

Expected<bool> Notifier::Configure(const std::optional<AlertingConfig>& config,
                                   const std::string& own_url) {
  std::lock_guard configuring(configure_mu_);
  {
    std::lock_guard lock(mu_);
    if (config == config_ && own_url == own_url_) return true;
  }
  StopSenders();
  std::lock_guard lock(mu_);
  if (!config) {
    if (enabled_) {
      const std::size_t dropped = core_.Configure(CoreSettings{});
      Persist();
      Log(*logger_, spdlog::level::info, "alerting disabled",
          {{"dropped_queued_alerts", std::to_string(dropped)}});
    }
    enabled_ = false;
    receivers_.clear();
    config_.reset();
    return true;
  }

  std::vector<Receiver> receivers;
  for (const auto& url : config->alertmanagers) {
    auto endpoint = AlertmanagerAlertsUrl(url);
    if (!endpoint) {
      StartSenders();
      return Error{"alerting.alertmanagers: " + endpoint.error().message};
    }
    receivers.push_back({url, false, *endpoint});
  }
  for (const auto& url : config->webhooks) {
    auto endpoint = ParseHttpUrl(url);
    if (!endpoint) {
      StartSenders();
      return Error{"alerting.webhooks: " + endpoint.error().message};
    }
    receivers.push_back({url, true, *endpoint});
  }

  const std::string external_url =
      TrimSlash(config->external_url.empty() ? own_url : config->external_url);
  const std::string path = config->queue_path.empty() ? DefaultQueuePath() : config->queue_path;
  NotifierCore next = core_;
  std::size_t dropped = next.Configure(MakeSettings(*config, external_url));
  // The file is read when alerting comes on. A new path while it is on takes the state in
  // memory along instead: a file already there would hold an older state.
  const bool moved = enabled_ && path != path_;
  auto fail = [&](const std::string& why) {
    StartSenders();
    return Error{"alerting.queue.path: " + why};
  };
  if (auto made = CreateParentDirectories(path); !made) return fail(made.error().message);
  if (!enabled_) {
    // A writer killed mid-write leaves its temporary file; the real file is intact.
    RemoveFileIfExists(path + ".tmp");
    auto text = ReadFileIfExists(path);
    if (!text) return fail(text.error().message);
    if (*text) {
      auto restored = next.Restore(**text);
      if (!restored) {
        return fail(path + ": not a readable alert queue (" + restored.error().message +
                    "); move it away to start with an empty queue");
      }
      dropped += *restored;
      Log(*logger_, spdlog::level::info, "alert queue loaded",
          {{"path", path},
           {"queued", std::to_string(next.QueueLength())},
           {"firing", std::to_string(next.Firing().size())}});
    }
  }
  if (auto written = WriteFileAtomically(path, next.Encode()); !written) {
    return fail(written.error().message);
  }
  if (dropped > 0) {
    Log(*logger_, spdlog::level::warn,
        "queued alerts dropped: their receiver is no longer "
        "configured or the queue bound shrank",
        {{"dropped", std::to_string(dropped)}});
  }
  if (moved) {
    RemoveFileIfExists(path_);
    Log(*logger_, spdlog::level::info, "alert queue moved", {{"from", path_}, {"to", path}});
  }
  core_ = std::move(next);
  path_ = path;
  external_url_ = external_url;
  timeout_ = config->timeout;
  receivers_ = std::move(receivers);
  enabled_ = true;
  config_ = config;
  own_url_ = own_url;
  persist_failing_ = false;
  StartSenders();
  return true;
}

void Notifier::Observe(const std::map<std::string, policy::TrackedFinding>& active, double now) {
  std::lock_guard lock(mu_);
  if (!enabled_ || !core_.Observe(active, now)) return;
  Persist();
  wake_.notify_all();
}

void Notifier::Stop() {
  std::lock_guard configuring(configure_mu_);
  StopSenders();
}

std::size_t Notifier::QueueLength() const {
  std::lock_guard lock(mu_);
  return core_.QueueLength();
}

void Notifier::StartSenders() {
  if (!enabled_) return;
  for (std::size_t i = 0; i < receivers_.size(); ++i) {
    senders_.emplace_back([this, i] { Send(i); });
  }
}

void Notifier::StopSenders() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : senders_) t.join();
  senders_.clear();
  std::lock_guard lock(mu_);
  stopping_ = false;
}

void Notifier::Send(std::size_t index) {
  std::unique_lock lock(mu_);
  const Receiver receiver = receivers_[index];
  while (!stopping_) {
    const double now = UnixNow();
    std::vector<QueueEntry> batch = core_.Due(receiver.url, now);
    if (batch.empty()) {
      const double next = core_.NextAttempt(receiver.url);
      if (core_.QueueLength(receiver.url) > 0 && next > now) {
        wake_.wait_for(lock, std::chrono::duration<double>(next - now));
      } else {
        wake_.wait(lock);
      }
      continue;
    }
    std::vector<Alert> alerts;
    for (const QueueEntry& e : batch) alerts.push_back(e.alert);
    const std::string body =
        receiver.webhook ? WebhookPayload(alerts, external_url_)
                         : AlertmanagerPayload(alerts, now, 4 * core_.settings().resend_interval);
    const auto timeout = timeout_;
    lock.unlock();
    auto result = HttpPostJson(receiver.endpoint, body, timeout);
    lock.lock();

    const Outcome outcome = result ? Classify(result->status) : Outcome::kRetry;
    const int failures_before = core_.Failures(receiver.url);
    core_.Complete(receiver.url, batch, outcome, UnixNow(),
                   std::uniform_real_distribution<double>(0, 1)(rng_));
    const std::string err = !result
                                ? result.error().message
                                : "HTTP " + std::to_string(result->status) + ": " + result->body;
    if (outcome == Outcome::kRejected) {
      Log(*logger_, spdlog::level::err, "receiver rejected alerts; dropped",
          {{"receiver", receiver.url}, {"alerts", std::to_string(batch.size())}, {"err", err}});
    } else if (outcome == Outcome::kRetry && failures_before == 0) {
      // Logged once per outage, not per retry.
      Log(*logger_, spdlog::level::warn, "cannot send alerts; they stay queued and are retried",
          {{"receiver", receiver.url}, {"err", err}});
    } else if (outcome == Outcome::kDelivered && failures_before > 0) {
      Log(*logger_, spdlog::level::info, "alerts delivered again",
          {{"receiver", receiver.url}, {"failed_attempts", std::to_string(failures_before)}});
    }
    Persist();
  }
}

void Notifier::Persist() {
  auto written = WriteFileAtomically(path_, core_.Encode());
  if (written.ok() == !persist_failing_) return;
  persist_failing_ = !written.ok();
  if (persist_failing_) {
    Log(*logger_, spdlog::level::err,
        "cannot write the alert queue; alerts are kept in memory only",
        {{"path", path_}, {"err", written.error().message}});
  } else {
    Log(*logger_, spdlog::level::info, "alert queue written again", {{"path", path_}});
  }
}

std::vector<prometheus::MetricFamily> Notifier::Collect() const {
  using prometheus::MetricType;
  std::lock_guard lock(mu_);
  auto sent =
      Family("portwarden_notifications_sent_total",
             "Alerts the receiver (Alertmanager or webhook URL) accepted.", MetricType::Counter);
  auto failed = Family("portwarden_notifications_failed_total",
                       "Alerts in sends to the receiver that failed; a retried alert counts "
                       "again.",
                       MetricType::Counter);
  for (const Receiver& r : receivers_) {
    const TargetStats& stats = core_.Stats().at(r.url);
    AddValue(sent, {{"alertmanager", r.url}}, static_cast<double>(stats.sent));
    AddValue(failed, {{"alertmanager", r.url}}, static_cast<double>(stats.failed));
  }
  auto length =
      Family("portwarden_notification_queue_length",
             "Alert states waiting in the on-disk queue, over all receivers.", MetricType::Gauge);
  AddValue(length, {}, static_cast<double>(core_.QueueLength()));
  auto dropped = Family("portwarden_notifications_dropped_total",
                        "Queued alerts dropped: oldest first over alerting.queue.max_entries, "
                        "rejected by the receiver (4xx), or of a receiver removed by a reload.",
                        MetricType::Counter);
  AddValue(dropped, {}, static_cast<double>(core_.Dropped()));
  return {std::move(sent), std::move(failed), std::move(length), std::move(dropped)};
}

}  // namespace portwarden::notifier
