#include "exporter/notifier/alert.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace portwarden::notifier {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t FnvAdd(uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
  return hash;
}

std::string Hex16(uint64_t value) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string Endpoint(const policy::Finding& f) {
  const std::string address =
      f.address.find(':') != std::string::npos ? "[" + f.address + "]" : f.address;
  return std::string(ToString(f.proto)) + " " + address + ":" + std::to_string(f.port);
}

std::string_view Title(policy::FindingKind kind) {
  switch (kind) {
    case policy::FindingKind::kMissing:
      return "Expected listener missing";
    case policy::FindingKind::kWrongOwner:
      return "Wrong owner";
    case policy::FindingKind::kBlocked:
      return "Expected listener blocked";
    case policy::FindingKind::kConflict:
      return "Port conflict";
    case policy::FindingKind::kUnexpected:
      return "Unexpected listener on an exclusive port";
    case policy::FindingKind::kChanged:
      return "Port owner changed";
    case policy::FindingKind::kBindFailed:
      return "Bind failed";
  }
  return "Finding";
}

void SetIfNotEmpty(LabelSet& set, const std::string& name, const std::string& value) {
  if (!value.empty()) set[name] = value;
}

}  // namespace

std::string_view Severity(policy::FindingKind kind) {
  switch (kind) {
    case policy::FindingKind::kMissing:
    case policy::FindingKind::kWrongOwner:
    case policy::FindingKind::kBlocked:
      return "critical";
    case policy::FindingKind::kConflict:
    case policy::FindingKind::kUnexpected:
    case policy::FindingKind::kBindFailed:
      return "warning";
    case policy::FindingKind::kChanged:
      return "info";
  }
  return "warning";
}

std::string Fingerprint(const LabelSet& labels) {
  uint64_t hash = kFnvOffset;
  const std::string_view separator("\xff", 1);
  for (const auto& [name, value] : labels) {
    hash = FnvAdd(hash, name);
    hash = FnvAdd(hash, separator);
    hash = FnvAdd(hash, value);
    hash = FnvAdd(hash, separator);
  }
  return Hex16(hash);
}

std::string FindingId(std::string_view key) { return Hex16(FnvAdd(kFnvOffset, key)); }

Alert FindingAlert(const policy::TrackedFinding& tracked, const AlertContext& context) {
  const policy::Finding& f = tracked.finding;
  Alert alert;
  for (const auto& [name, value] : context.static_labels) SetIfNotEmpty(alert.labels, name, value);
  alert.labels["alertname"] = std::string(kAlertName);
  alert.labels["severity"] = std::string(Severity(f.kind));
  alert.labels["kind"] = std::string(policy::ToString(f.kind));
  SetIfNotEmpty(alert.labels, "rule", f.rule);
  alert.labels["proto"] = std::string(ToString(f.proto));
  alert.labels["address"] = f.address;
  alert.labels["port"] = std::to_string(f.port);
  SetIfNotEmpty(alert.labels, "owner", f.owner_identity);
  alert.labels["finding_id"] = FindingId(f.key);

  alert.annotations["summary"] =
      std::string(Title(f.kind)) + " on " + Endpoint(f) + (f.owner.empty() ? "" : ": " + f.owner);
  SetIfNotEmpty(alert.annotations, "description", f.explanation);
  SetIfNotEmpty(alert.annotations, "remediation", f.remediation);
  SetIfNotEmpty(alert.annotations, "owner", f.owner);
  SetIfNotEmpty(alert.annotations, "expected", f.expected);
  SetIfNotEmpty(alert.annotations, "other", f.other);
  alert.annotations["finding_key"] = f.key;

  alert.starts_at = std::chrono::duration<double>(tracked.raised_at.time_since_epoch()).count();
  alert.generator_url = context.generator_url;
  return alert;
}

std::string FormatRfc3339(double unix_seconds) {
  using namespace std::chrono;
  const auto ms = milliseconds(static_cast<int64_t>(std::llround(unix_seconds * 1000)));
  const sys_time<milliseconds> t(ms);
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> tod(t - day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()),
                static_cast<int>(tod.subseconds().count()));
  return buf;
}

}  // namespace portwarden::notifier
