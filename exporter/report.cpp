#include "exporter/report.h"

#include <algorithm>

#include "exporter/httpsys_metrics.h"

namespace portwarden {
namespace {

nlohmann::json ProcessJson(const Process& p) {
  return {{"pid", p.pid},   {"ppid", p.ppid}, {"process", p.name},
          {"exe", p.exe},   {"user", p.user}, {"service", p.service}};
}

std::string Endpoint(const Listener& l) {
  return l.family == Family::kIpv6 ? "[" + l.address + "]:" + std::to_string(l.port)
                                   : l.address + ":" + std::to_string(l.port);
}

}  // namespace

nlohmann::json SnapshotJson(const Snapshot& snap) {
  nlohmann::json listeners = nlohmann::json::array();
  for (const Listener& l : snap.listeners.listeners) {
    nlohmann::json holders = nlohmann::json::array();
    for (const auto& h : l.owner.holders) holders.push_back(ProcessJson(h));
    listeners.push_back({{"proto", ToString(l.proto)},
                         {"family", ToString(l.family)},
                         {"address", l.address},
                         {"port", l.port},
                         {"v6only", l.v6only},
                         {"sockets", l.sockets},
                         {"owner",
                          {{"kind", ToString(l.owner.kind)},
                           {"main", ProcessJson(l.owner.main)},
                           {"holders", holders}}}});
  }
  nlohmann::json collectors = nlohmann::json::array();
  for (const auto& c : snap.collectors) {
    collectors.push_back({{"name", c.name},
                          {"success", c.success},
                          {"duration_seconds", c.duration_seconds},
                          {"error", c.error}});
  }
  const ListenerSet& s = snap.listeners;
  return {{"timestamp", snap.timestamp},
          {"listener_backend", snap.listener_backend},
          {"listeners", listeners},
          {"counts",
           {{"tcp", s.tcp},
            {"udp", s.udp},
            {"unattributed_tcp", s.unattributed_tcp},
            {"unattributed_udp", s.unattributed_udp},
            {"dropped", s.dropped}}},
          {"collectors", collectors},
          {"httpsys", HttpSysJson(snap.httpsys)}};
}

nlohmann::json FindingJson(const policy::Finding& f) {
  return {{"kind", policy::ToString(f.kind)},
          {"rule", f.rule},
          {"proto", ToString(f.proto)},
          {"address", f.address},
          {"port", f.port},
          {"owner", f.owner},
          {"owner_identity", f.owner_identity},
          {"owner_address", f.owner_address},
          {"expected", f.expected},
          {"other", f.other},
          {"key", f.key},
          {"explanation", f.explanation},
          {"remediation", f.remediation}};
}

nlohmann::json StateJson(const Snapshot& snap) {
  nlohmann::json state = SnapshotJson(snap);
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& [key, tracked] : snap.policy.active) {
    nlohmann::json f = FindingJson(tracked.finding);
    auto seconds = [](policy::TimePoint t) {
      return std::chrono::duration<double>(t.time_since_epoch()).count();
    };
    f["raised_at"] = seconds(tracked.raised_at);
    f["last_seen"] = seconds(tracked.last_seen);
    findings.push_back(std::move(f));
  }
  nlohmann::json expectations = nlohmann::json::array();
  for (const auto& e : snap.policy.evaluation.expectations) {
    expectations.push_back({{"rule", e.name}, {"satisfied", e.satisfied}});
  }
  state["findings"] = std::move(findings);
  state["expectations"] = std::move(expectations);
  return state;
}

nlohmann::json EventsJson(const Snapshot& snap) {
  nlohmann::json events = nlohmann::json::array();
  if (!snap.policy.events) return events;
  for (const Event& e : *snap.policy.events) {
    events.push_back({{"time", e.time},
                      {"type", e.type},
                      {"key", e.key},
                      {"kind", e.kind},
                      {"rule", e.rule},
                      {"proto", ToString(e.proto)},
                      {"address", e.address},
                      {"port", e.port},
                      {"owner", e.owner},
                      {"detail", e.detail}});
  }
  return events;
}

std::string FindingsText(const policy::Evaluation& evaluation) {
  std::string out;
  for (const auto& f : evaluation.findings) {
    out += std::string(policy::ToString(f.kind)) + (f.rule.empty() ? "" : " [" + f.rule + "]") +
           " " + std::string(ToString(f.proto)) + " " + f.address + ":" + std::to_string(f.port) +
           (f.owner.empty() ? "" : " held by " + f.owner) + "\n  " + f.explanation + "\n";
    if (!f.remediation.empty()) out += "  fix: " + f.remediation + "\n";
  }
  for (const auto& e : evaluation.expectations) {
    out += std::string(e.satisfied ? "ok     " : "FAILED ") + e.name + "\n";
  }
  out += std::to_string(evaluation.findings.size()) + " finding(s), " +
         std::to_string(evaluation.expectations.size()) + " expectation(s)\n";
  return out;
}

std::string SnapshotTable(const Snapshot& snap) {
  std::vector<std::vector<std::string>> rows = {
      {"PROTO", "LOCAL ADDRESS", "PID", "PROCESS", "USER", "SERVICE", "SOCKETS", "HOLDERS"}};
  for (const Listener& l : snap.listeners.listeners) {
    const Process& m = l.owner.main;
    bool known = l.owner.kind != OwnerKind::kUnknown;
    std::string holders;
    for (const auto& h : l.owner.holders) {
      holders += (holders.empty() ? "" : ",") + std::to_string(h.pid);
    }
    rows.push_back({std::string(ToString(l.proto)), Endpoint(l),
                    known ? std::to_string(m.pid) : "-", known ? m.name : "(unknown)",
                    known ? m.user : "-", m.service.empty() ? "-" : m.service,
                    std::to_string(l.sockets), holders.empty() ? "-" : holders});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += '\n';
  }
  for (const auto& c : snap.collectors) {
    if (!c.success) out += "collector " + c.name + " failed: " + c.error + "\n";
  }
  if (snap.listeners.dropped > 0) {
    out += std::to_string(snap.listeners.dropped) + " listeners over listeners.max_series not shown\n";
  }
  return out;
}

}  // namespace portwarden
