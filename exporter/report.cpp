#include "exporter/report.h"

#include <algorithm>

#include "collectors/httpsys/netsh_parse.h"
#include "collectors/httpsys/netstat_parse.h"
#include "exporter/httpsys_metrics.h"

namespace portwarden {
namespace {

nlohmann::json ProcessJson(const Process& p) {
  return {{"pid", p.pid},
          {"ppid", p.ppid},
          {"process", p.name},
          {"exe", p.exe},
          {"user", p.user},
          {"service", p.service},
          {"container", p.container},
          {"container_runtime", p.container_runtime},
          {"pod", p.pod},
          {"forwards_netns", p.forwards_netns},
          {"listen_fds", p.listen_fds}};
}

std::string Endpoint(const Listener& l) {
  return l.family == Family::kIpv6 ? "[" + l.address + "]:" + std::to_string(l.port)
                                   : l.address + ":" + std::to_string(l.port);
}

nlohmann::json NetstatRowJson(const httpsys::NetstatRow& r) {
  return {{"proto", ToString(r.proto)},
          {"family", ToString(r.family)},
          {"address", r.address},
          {"port", r.port},
          {"foreign", r.foreign},
          {"state", r.state.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.state)},
          {"pid", r.pid}};
}

// A queue as netsh printed it, before the collector adds process names (HttpSysJson).
nlohmann::json RequestQueueJson(const httpsys::RequestQueue& q) {
  nlohmann::json processes = nlohmann::json::array();
  for (const auto& p : q.processes) {
    processes.push_back({{"pid", p.pid}, {"image", p.image}, {"services", p.services}});
  }
  return {{"name", q.name},
          {"version", q.version},
          {"processes", processes},
          {"controller_pid",
           q.controller_pid ? nlohmann::json(*q.controller_pid) : nlohmann::json(nullptr)},
          {"urls", q.urls},
          {"urls_from_groups", q.urls_from_groups}};
}

nlohmann::json UrlGroupJson(const httpsys::UrlGroup& g) {
  return {{"id", g.id},
          {"request_queue",
           g.request_queue ? nlohmann::json(*g.request_queue) : nlohmann::json(nullptr)},
          {"urls", g.urls}};
}

// {"records": [...], "skipped": N} of a parser's result, each record through `to_json`.
template <typename Parsed, typename Record, typename ToJson>
Expected<nlohmann::json> Records(const Expected<Parsed>& parsed,
                                 std::vector<Record> Parsed::*records, ToJson to_json) {
  if (!parsed) return parsed.error();
  nlohmann::json out = nlohmann::json::array();
  for (const Record& r : (*parsed).*records) out.push_back(to_json(r));
  return nlohmann::json{{"records", std::move(out)}, {"skipped", parsed->skipped}};
}

}  // namespace

Expected<nlohmann::json> DecodeJson(std::string_view kind, std::string_view text) {
  using namespace httpsys;
  if (kind == "iplisten") {
    return Records(ParseIpListen(text), &IpListenList::entries, [](const IpListenEntry& e) {
      return nlohmann::json{{"address", e.address}};
    });
  }
  if (kind == "urlacl") {
    return Records(ParseUrlAcl(text), &UrlAclList::reservations, UrlReservationJson);
  }
  if (kind == "sslcert") return Records(ParseSslCert(text), &SslCertList::bindings, TlsBindingJson);
  if (kind == "excludedportrange") {
    return Records(ParseExcludedPortRanges(text), &ExcludedPortRangeList::ranges,
                   ExcludedPortRangeJson);
  }
  if (kind == "netstat") return Records(ParseNetstat(text), &NetstatTable::rows, NetstatRowJson);
  if (kind == "servicestate") {
    Expected<ServiceState> state = ParseServiceState(text);
    if (!state) return state.error();
    nlohmann::json queues = nlohmann::json::array();
    for (const auto& q : state->queues) queues.push_back(RequestQueueJson(q));
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : state->url_groups) groups.push_back(UrlGroupJson(g));
    return nlohmann::json{
        {"request_queues", queues}, {"url_groups", groups}, {"skipped", state->skipped}};
  }
  return Error{"decode: no parser for kind \"" + std::string(kind) + "\""};
}

std::string ProcessColumn(const Owner& owner) {
  const std::string& name = owner.main().name;
  if (owner.kind == OwnerKind::kNat) {
    return "DNAT to " + owner.forwards_to + (name.empty() ? "" : " (" + name + ")");
  }
  return name;
}

nlohmann::json SnapshotJson(const Snapshot& snap) {
  nlohmann::json listeners = nlohmann::json::array();
  for (const Listener& l : snap.listeners->listeners) {
    nlohmann::json holders = nlohmann::json::array();
    for (const auto& h : l.owner.holders) holders.push_back(ProcessJson(*h));
    listeners.push_back({{"proto", ToString(l.proto)},
                         {"family", ToString(l.family)},
                         {"address", l.address},
                         {"port", l.port},
                         {"v6only", l.v6only},
                         {"netns", {{"inode", l.netns}, {"name", l.netns_name}}},
                         {"container", l.owner.main().container},
                         {"pod", l.owner.main().pod},
                         {"socket_unit", l.owner.socket_unit},
                         {"service", l.owner.service()},
                         {"forwards_to", l.owner.forwards_to},
                         {"sockets", l.sockets},
                         {"owner",
                          {{"kind", ToString(l.owner.kind)},
                           {"main", ProcessJson(l.owner.main())},
                           {"supervisor", l.owner.supervisor ? ProcessJson(*l.owner.supervisor)
                                                             : nlohmann::json(nullptr)},
                           {"holders", holders}}}});
  }
  nlohmann::json collectors = nlohmann::json::array();
  for (const auto& c : snap.collectors) {
    collectors.push_back({{"name", c.name},
                          {"success", c.success},
                          {"duration_seconds", c.duration_seconds},
                          {"error", c.error}});
  }
  const ListenerSet& s = *snap.listeners;
  return {{"timestamp", snap.timestamp},
          {"listener_backend", snap.listener_backend},
          {"bind_source", snap.bind_source},
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
  for (const auto& event : *snap.policy.events) {
    const Event& e = *event;
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
      {"PROTO", "LOCAL ADDRESS", "NETNS", "PID", "PROCESS", "USER", "SERVICE", "CONTAINER",
       "SOCKETS", "HOLDERS"}};
  for (const Listener& l : snap.listeners->listeners) {
    const Process& m = l.owner.main();
    bool known = l.owner.kind != OwnerKind::kUnknown;
    std::string holders;
    for (const auto& h : l.owner.holders) {
      holders += (holders.empty() ? "" : ",") + std::to_string(h->pid);
    }
    std::string netns = !l.netns_name.empty() ? l.netns_name
                        : l.netns != 0        ? std::to_string(l.netns)
                                              : "-";
    std::string process = known ? ProcessColumn(l.owner) : "(unknown)";
    rows.push_back({std::string(ToString(l.proto)), Endpoint(l), netns,
                    known && m.pid != 0 ? std::to_string(m.pid) : "-", process,
                    known ? m.user : "-", l.owner.service().empty() ? "-" : l.owner.service(),
                    m.container.empty() ? "-" : m.container, std::to_string(l.sockets),
                    holders.empty() ? "-" : holders});
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
  if (snap.listeners->dropped > 0) {
    out += std::to_string(snap.listeners->dropped) + " listeners over listeners.max_series not shown\n";
  }
  return out;
}

}  // namespace portwarden
