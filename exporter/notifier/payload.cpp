#include "exporter/notifier/payload.h"

#include <nlohmann/json.hpp>

namespace portwarden::notifier {
namespace {

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

nlohmann::json Map(const LabelSet& set) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : set) out[name] = value;
  return out;
}

// Host-derived text (process names, service names) may hold invalid UTF-8: replace it
// rather than fail the whole batch.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The entries every set has with the same value.
LabelSet Common(const std::vector<Alert>& alerts, LabelSet Alert::*member) {
  if (alerts.empty()) return {};
  LabelSet common = alerts.front().*member;
  for (const Alert& alert : alerts) {
    for (auto it = common.begin(); it != common.end();) {
      auto found = (alert.*member).find(it->first);
      if (found == (alert.*member).end() || found->second != it->second) {
        it = common.erase(it);
      } else {
        ++it;
      }
    }
  }
  return common;
}

}  // namespace

std::string AlertmanagerPayload(const std::vector<Alert>& alerts, double now,
                                double expiry_seconds) {
  nlohmann::json out = nlohmann::json::array();
  for (const Alert& alert : alerts) {
    nlohmann::json a = {
        {"labels", Map(alert.labels)},
        {"annotations", Map(alert.annotations)},
        {"startsAt", FormatRfc3339(alert.starts_at)},
        {"endsAt", FormatRfc3339(alert.Resolved() ? alert.ends_at : now + expiry_seconds)}};
    if (!alert.generator_url.empty()) a["generatorURL"] = alert.generator_url;
    out.push_back(std::move(a));
  }
  return Dump(out);
}

std::string WebhookPayload(const std::vector<Alert>& alerts, const std::string& external_url) {
  bool firing = false;
  nlohmann::json list = nlohmann::json::array();
  for (const Alert& alert : alerts) {
    firing = firing || !alert.Resolved();
    list.push_back({{"status", alert.Resolved() ? "resolved" : "firing"},
                    {"labels", Map(alert.labels)},
                    {"annotations", Map(alert.annotations)},
                    {"startsAt", FormatRfc3339(alert.starts_at)},
                    {"endsAt", alert.Resolved() ? FormatRfc3339(alert.ends_at) : kZeroTime},
                    {"generatorURL", alert.generator_url},
                    {"fingerprint", Fingerprint(alert.labels)}});
  }
  nlohmann::json out = {{"version", "4"},
                        {"groupKey", "{}:{}"},
                        {"truncatedAlerts", 0},
                        {"status", firing ? "firing" : "resolved"},
                        {"receiver", "portwarden"},
                        {"groupLabels", nlohmann::json::object()},
                        {"commonLabels", Map(Common(alerts, &Alert::labels))},
                        {"commonAnnotations", Map(Common(alerts, &Alert::annotations))},
                        {"externalURL", external_url},
                        {"alerts", std::move(list)}};
  return Dump(out);
}

}  // namespace portwarden::notifier
