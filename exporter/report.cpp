#include "exporter/report.h"

#include <algorithm>

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
          {"collectors", collectors}};
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
