#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace portwarden::notifier {

/// The `alerting:` section of the config: where the daemon pushes its findings as alerts.
/// Plain data; config.cpp parses and validates it (URLs, label names, durations).
struct AlertingConfig {
  /// Alertmanager base URLs ("http://am:9093"); alerts go to <url>/api/v2/alerts.
  std::vector<std::string> alertmanagers;
  /// Generic receivers: full URLs that get Alertmanager's webhook payload.
  std::vector<std::string> webhooks;
  /// Added to every alert; may not redefine a finding's own labels (see kFindingLabels).
  std::map<std::string, std::string> labels;
  /// Base of the alerts' generatorURL and the webhook's externalURL; empty: the daemon's
  /// own address, http://<hostname>:<port>.
  std::string external_url;
  /// Active alerts are sent again this often; each carries endsAt = send time + 4 x this,
  /// so Alertmanager resolves them by itself if the daemon goes away.
  std::chrono::milliseconds resend_interval{60'000};
  /// Per request, for the response (connecting gives up after at most 10s, CivetWeb's limit).
  std::chrono::milliseconds timeout{10'000};
  /// Retry delay after a failed send: doubles from `backoff_initial` up to `backoff_max`.
  std::chrono::milliseconds backoff_initial{1'000};
  std::chrono::milliseconds backoff_max{60'000};
  /// The on-disk queue file; empty: the platform default (DefaultQueuePath()).
  std::string queue_path;
  /// Queue bound, over all receivers; beyond it the oldest entries are dropped and counted.
  std::size_t queue_max_entries = 10'000;

  bool operator==(const AlertingConfig&) const = default;
};

/// Labels every pushed alert gets from its finding; static labels may not use these names.
inline const std::vector<std::string> kFindingLabels = {
    "alertname", "severity", "kind", "rule", "proto", "address", "port", "owner", "finding_id"};

}  // namespace portwarden::notifier
