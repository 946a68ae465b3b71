#pragma once

// Synthetic findings for the notifier's tests.
#include <chrono>
#include <map>
#include <string>

#include "exporter/policy/finding_tracker.h"

namespace portwarden::notifier::testing {

inline policy::TimePoint At(double unix_seconds) {
  return policy::TimePoint(std::chrono::duration_cast<policy::TimePoint::duration>(
      std::chrono::duration<double>(unix_seconds)));
}

/// The seed scenario's finding: HTTP.sys' 0.0.0.0:80 blocks nginx on 10.0.0.5:80.
inline policy::TrackedFinding Blocked(double raised_at = 1000) {
  policy::Finding f;
  f.kind = policy::FindingKind::kBlocked;
  f.rule = "web";
  f.proto = Proto::kTcp;
  f.address = "10.0.0.5";
  f.port = 80;
  f.owner = "http.sys (System, pid 4)";
  f.owner_identity = "http.sys:System:";
  f.owner_address = "0.0.0.0";
  f.expected = "process=nginx";
  f.key = "blocked|web|tcp|10.0.0.5|80|0.0.0.0|http.sys:System:";
  f.explanation =
      "Expectation \"web\" wants process=nginx on 10.0.0.5:80/tcp, but http.sys "
      "(System, pid 4) holds 0.0.0.0:80, which covers that address, so the "
      "expected owner cannot bind it.";
  f.remediation = "netsh http add iplisten ipaddress=172.16.1.1";
  return {f, At(raised_at), At(raised_at), 0};
}

/// A conflict on port `port` (different keys for different ports).
inline policy::TrackedFinding Conflict(uint16_t port, double raised_at = 1000) {
  policy::Finding f;
  f.kind = policy::FindingKind::kConflict;
  f.proto = Proto::kTcp;
  f.address = "0.0.0.0";
  f.port = port;
  f.owner = "squatter (pid 77)";
  f.owner_identity = "process:squatter:";
  f.owner_address = "0.0.0.0";
  f.other = "nginx (pid 12) on 127.0.0.1:" + std::to_string(port);
  f.key = "conflict||tcp|0.0.0.0|" + std::to_string(port) +
          "|0.0.0.0|process:squatter:|process:nginx:|127.0.0.1";
  f.explanation = "squatter and nginx hold overlapping binds";
  return {f, At(raised_at), At(raised_at), 0};
}

using Active = std::map<std::string, policy::TrackedFinding>;

inline Active ActiveOf(std::initializer_list<policy::TrackedFinding> findings) {
  Active out;
  for (const auto& t : findings) out.emplace(t.finding.key, t);
  return out;
}

}  // namespace portwarden::notifier::testing
