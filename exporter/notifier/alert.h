#pragma once

#include <map>
#include <string>
#include <string_view>

#include "exporter/policy/finding_tracker.h"
#include "exporter/policy/policy.h"

namespace portwarden::notifier {

using LabelSet = std::map<std::string, std::string>;

/// One alert as Alertmanager's API v2 knows it. Times are Unix seconds.
struct Alert {
  LabelSet labels;
  LabelSet annotations;
  double starts_at = 0;
  /// 0 while firing: the sender stamps endsAt = send time + expiry, so an alert that waited
  /// in the queue does not arrive already expired. Set: resolved at that time.
  double ends_at = 0;
  std::string generator_url;  ///< empty: left out

  bool Resolved() const { return ends_at > 0; }
  bool operator==(const Alert&) const = default;
};

/// What every pushed alert shares: static labels and where the daemon can be reached.
struct AlertContext {
  LabelSet static_labels;
  std::string generator_url;
};

/// The pushed alerts' alertname; the Prometheus rules use other names (see dashboards/).
inline constexpr std::string_view kAlertName = "PortwardenFinding";

/// Severity of a finding kind, the same as the Prometheus rules give it: missing, wrong_owner
/// and blocked mean an expected service cannot serve (critical); conflict and unexpected are
/// warnings; changed is info.
std::string_view Severity(policy::FindingKind kind);

/// Alertmanager's fingerprint of a label set: FNV-1a 64 over name, 0xff, value, 0xff in name
/// order, as 16 hex digits, so the webhook payload's fingerprints match Alertmanager's.
std::string Fingerprint(const LabelSet& labels);

/// 16 hex digits of FNV-1a 64 over a finding key: the `finding_id` label, which keeps two
/// findings that share kind, address, port and owner (two conflicts of one wildcard bind)
/// apart without putting the whole key in a label.
std::string FindingId(std::string_view key);

/// The alert for an active finding: labels alertname, severity, kind, rule, proto, address,
/// port, owner (the PID-free identity), finding_id, then the static labels (empty values left
/// out); annotations summary, description (the explanation), remediation, owner (with PID),
/// expected, other, finding_key. startsAt is when the finding was raised.
Alert FindingAlert(const policy::TrackedFinding& tracked, const AlertContext& context);

/// RFC 3339 in UTC with milliseconds: "2024-05-01T12:00:00.250Z".
std::string FormatRfc3339(double unix_seconds);

}  // namespace portwarden::notifier
