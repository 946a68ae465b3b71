#include "exporter/notifier/notifier_core.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

namespace portwarden::notifier {
namespace {

using nlohmann::json;

json LabelsJson(const LabelSet& set) {
  json out = json::object();
  for (const auto& [name, value] : set) out[name] = value;
  return out;
}

json AlertJson(const Alert& alert) {
  return {{"labels", LabelsJson(alert.labels)},
          {"annotations", LabelsJson(alert.annotations)},
          {"starts_at", alert.starts_at},
          {"ends_at", alert.ends_at},
          {"generator_url", alert.generator_url}};
}

// Decoding never throws: every access checks the type first, and a mismatch is an error
// naming the place.
Expected<LabelSet> DecodeLabels(const json& j, const std::string& where) {
  if (!j.is_object()) return Error{where + ": expected an object of strings"};
  LabelSet out;
  for (const auto& [name, value] : j.items()) {
    if (!value.is_string()) return Error{where + "." + name + ": expected a string"};
    out[name] = value.get<std::string>();
  }
  return out;
}

Expected<double> DecodeNumber(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return Error{where + "." + key + ": expected a number"};
  return it->get<double>();
}

Expected<std::string> DecodeString(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Error{where + "." + key + ": expected a string"};
  return it->get<std::string>();
}

Expected<Alert> DecodeAlert(const json& j, const std::string& where) {
  if (!j.is_object()) return Error{where + ": expected an object"};
  Alert alert;
  auto labels = DecodeLabels(j.contains("labels") ? j["labels"] : json(), where + ".labels");
  if (!labels) return labels.error();
  if (labels->empty()) return Error{where + ".labels: an alert needs labels"};
  alert.labels = std::move(*labels);
  auto annotations =
      DecodeLabels(j.contains("annotations") ? j["annotations"] : json(), where + ".annotations");
  if (!annotations) return annotations.error();
  alert.annotations = std::move(*annotations);
  auto starts = DecodeNumber(j, "starts_at", where);
  if (!starts) return starts.error();
  auto ends = DecodeNumber(j, "ends_at", where);
  if (!ends) return ends.error();
  auto url = DecodeString(j, "generator_url", where);
  if (!url) return url.error();
  alert.starts_at = *starts;
  alert.ends_at = *ends;
  alert.generator_url = std::move(*url);
  return alert;
}

}  // namespace

double RetryDelay(int failures, double initial, double max, double jitter) {
  const int doublings = std::clamp(failures - 1, 0, 62);
  const double delay = std::min(max, initial * std::ldexp(1.0, doublings));
  return delay * (1.0 - 0.2 * std::clamp(jitter, 0.0, 1.0));
}

Outcome Classify(int http_status) {
  if (http_status >= 200 && http_status < 300) return Outcome::kDelivered;
  if (http_status == 0 || http_status >= 500 || http_status == 408 || http_status == 429) {
    return Outcome::kRetry;
  }
  return Outcome::kRejected;
}

NotifierCore::NotifierCore(CoreSettings settings)
    : settings_(std::move(settings)), queue_(settings_.max_entries) {
  for (const auto& target : settings_.targets) stats_[target];
}

std::size_t NotifierCore::Configure(CoreSettings settings) {
  const std::set<std::string> old_targets(settings_.targets.begin(), settings_.targets.end());
  settings_ = std::move(settings);
  const std::set<std::string> targets(settings_.targets.begin(), settings_.targets.end());
  std::size_t dropped = queue_.Retain(targets) + queue_.SetMaxEntries(settings_.max_entries);
  // A receiver added by a reload learns what fires now, not at the next resend.
  for (const auto& target : settings_.targets) {
    if (old_targets.contains(target)) continue;
    for (const auto& [key, f] : firing_) {
      if (!f.restored) dropped += queue_.Push(target, f.alert, f.alert.starts_at);
    }
  }
  for (auto it = retry_.begin(); it != retry_.end();) {
    it = targets.contains(it->first) ? std::next(it) : retry_.erase(it);
  }
  for (const auto& target : settings_.targets) stats_[target];
  dropped_ += dropped;
  return dropped;
}

Expected<std::size_t> NotifierCore::Restore(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{"not valid JSON"};
  if (!j.is_object()) return Error{"expected a JSON object"};
  auto version = j.find("portwarden_alert_queue");
  if (version == j.end() || !version->is_number_integer() || version->get<int>() != kStateVersion) {
    return Error{"not a portwarden alert queue of format version " + std::to_string(kStateVersion)};
  }
  auto next_seq = j.find("next_seq");
  if (next_seq == j.end() || !next_seq->is_number_unsigned()) {
    return Error{"next_seq: expected a non-negative integer"};
  }
  auto entries = j.find("entries");
  auto firing = j.find("firing");
  if (entries == j.end() || !entries->is_array()) return Error{"entries: expected a list"};
  if (firing == j.end() || !firing->is_array()) return Error{"firing: expected a list"};

  AlertQueue queue(settings_.max_entries);
  queue.set_next_seq(next_seq->get<uint64_t>());
  const std::set<std::string> targets(settings_.targets.begin(), settings_.targets.end());
  std::size_t dropped = 0;
  uint64_t last_seq = 0;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const json& e = (*entries)[i];
    const std::string where = "entries[" + std::to_string(i) + "]";
    if (!e.is_object()) return Error{where + ": expected an object"};
    auto seq = e.find("seq");
    if (seq == e.end() || !seq->is_number_unsigned() || seq->get<uint64_t>() <= last_seq) {
      return Error{where + ".seq: expected an integer above the previous entry's"};
    }
    last_seq = seq->get<uint64_t>();
    auto target = DecodeString(e, "target", where);
    if (!target) return target.error();
    auto enqueued = DecodeNumber(e, "enqueued_at", where);
    if (!enqueued) return enqueued.error();
    auto alert = DecodeAlert(e.contains("alert") ? e["alert"] : json(), where + ".alert");
    if (!alert) return alert.error();
    if (!targets.contains(*target)) {
      ++dropped;
      continue;
    }
    dropped += queue.Restore({last_seq, std::move(*target), "", std::move(*alert), *enqueued});
  }
  std::map<std::string, FiringAlert> restored;
  for (std::size_t i = 0; i < firing->size(); ++i) {
    const json& f = (*firing)[i];
    const std::string where = "firing[" + std::to_string(i) + "]";
    if (!f.is_object()) return Error{where + ": expected an object"};
    auto key = DecodeString(f, "key", where);
    if (!key) return key.error();
    auto alert = DecodeAlert(f.contains("alert") ? f["alert"] : json(), where + ".alert");
    if (!alert) return alert.error();
    restored[*key] = FiringAlert{std::move(*alert), true, 0};
  }
  queue_ = std::move(queue);
  firing_ = std::move(restored);
  retry_.clear();
  dropped_ += dropped;
  return dropped;
}

std::string NotifierCore::Encode() const {
  json entries = json::array();
  for (const auto& [seq, e] : queue_.entries()) {
    entries.push_back({{"seq", seq},
                       {"target", e.target},
                       {"enqueued_at", e.enqueued_at},
                       {"alert", AlertJson(e.alert)}});
  }
  json firing = json::array();
  for (const auto& [key, f] : firing_)
    firing.push_back({{"key", key}, {"alert", AlertJson(f.alert)}});
  json out = {{"portwarden_alert_queue", kStateVersion},
              {"next_seq", queue_.next_seq()},
              {"entries", std::move(entries)},
              {"firing", std::move(firing)}};
  return out.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

void NotifierCore::PushAll(const Alert& alert, double now) {
  for (const auto& target : settings_.targets) dropped_ += queue_.Push(target, alert, now);
}

bool NotifierCore::Observe(const std::map<std::string, policy::TrackedFinding>& active,
                           double now) {
  bool changed = false;
  for (const auto& [key, tracked] : active) {
    Alert alert = FindingAlert(tracked, settings_.context);
    auto it = firing_.find(key);
    if (it == firing_.end()) {
      PushAll(alert, now);
      firing_.emplace(key, FiringAlert{std::move(alert)});
      changed = true;
      continue;
    }
    FiringAlert& f = it->second;
    f.restored = false;
    f.absent = 0;
    if (f.alert.labels != alert.labels) {
      // Static labels changed by a reload: the old alert is another alert to Alertmanager,
      // so close it rather than leave it to expire.
      Alert resolved = f.alert;
      resolved.ends_at = now;
      PushAll(resolved, now);
      PushAll(alert, now);
      f.alert = std::move(alert);
      changed = true;
      continue;
    }
    // A restarted daemon raises the finding again, later; it is the same problem.
    alert.starts_at = std::min(alert.starts_at, f.alert.starts_at);
    if (alert != f.alert) {
      f.alert = std::move(alert);
      changed = true;
    }
  }
  for (auto it = firing_.begin(); it != firing_.end();) {
    FiringAlert& f = it->second;
    if (active.contains(it->first) || (f.restored && ++f.absent < kRestoredHoldDownCycles)) {
      ++it;
      continue;
    }
    Alert resolved = f.alert;
    resolved.ends_at = now;
    PushAll(resolved, now);
    it = firing_.erase(it);
    changed = true;
  }
  if (next_resend_ == 0) next_resend_ = now + settings_.resend_interval;
  if (now >= next_resend_) {
    for (const auto& [key, f] : firing_) {
      if (!f.restored) PushAll(f.alert, now);
    }
    next_resend_ = now + settings_.resend_interval;
    changed = changed || !firing_.empty();
  }
  return changed;
}

std::vector<QueueEntry> NotifierCore::Due(const std::string& target, double now) const {
  if (now < NextAttempt(target)) return {};
  return queue_.Batch(target, kMaxBatch);
}

double NotifierCore::NextAttempt(const std::string& target) const {
  auto it = retry_.find(target);
  return it == retry_.end() ? 0 : it->second.next_attempt;
}

int NotifierCore::Failures(const std::string& target) const {
  auto it = retry_.find(target);
  return it == retry_.end() ? 0 : it->second.failures;
}

void NotifierCore::Complete(const std::string& target, const std::vector<QueueEntry>& batch,
                            Outcome outcome, double now, double jitter) {
  std::vector<uint64_t> seqs;
  for (const QueueEntry& e : batch) seqs.push_back(e.seq);
  TargetStats& stats = stats_[target];
  Retry& retry = retry_[target];
  switch (outcome) {
    case Outcome::kDelivered:
      queue_.Remove(seqs);
      stats.sent += seqs.size();
      retry = {};
      break;
    case Outcome::kRetry:
      stats.failed += seqs.size();
      ++retry.failures;
      retry.next_attempt = now + RetryDelay(retry.failures, settings_.backoff_initial,
                                            settings_.backoff_max, jitter);
      break;
    case Outcome::kRejected:
      queue_.Remove(seqs);
      stats.failed += seqs.size();
      dropped_ += seqs.size();
      retry = {};
      break;
  }
}

std::map<std::string, Alert> NotifierCore::Firing() const {
  std::map<std::string, Alert> out;
  for (const auto& [key, f] : firing_) out.emplace(key, f.alert);
  return out;
}

}  // namespace portwarden::notifier
