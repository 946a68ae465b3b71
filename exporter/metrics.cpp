#include "exporter/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "exporter/build_info.h"
#include "exporter/httpsys_metrics.h"

namespace portwarden {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Label values must be UTF-8 (promtool and Prometheus reject the scrape otherwise) but come
// from the host: process names are any bytes. Each byte that does not start a well-formed
// sequence (no overlong forms, surrogates or code points past U+10FFFF) becomes U+FFFD.
// prometheus-cpp escapes \\, " and \n itself.
std::string ValidUtf8(std::string text) {
  auto cont = [&](size_t i) { return i < text.size() && (uint8_t(text[i]) & 0xC0) == 0x80; };
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const uint8_t c = uint8_t(text[i]);
    const uint8_t d = i + 1 < text.size() ? uint8_t(text[i + 1]) : 0;
    size_t n = c < 0x80                                                   ? 1
               : c >= 0xC2 && c <= 0xDF && cont(i + 1)                   ? 2
               : c >= 0xE0 && c <= 0xEF && cont(i + 1) && cont(i + 2) &&
                       !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d > 0x9F) ? 3
               : c >= 0xF0 && c <= 0xF4 && cont(i + 1) && cont(i + 2) && cont(i + 3) &&
                       !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d > 0x8F) ? 4
                                                                            : 0;
    out += n ? text.substr(i, n) : "\xEF\xBF\xBD";
    i += n ? n : 1;
  }
  return out;
}

MetricFamily Single(std::string name, std::string help, std::vector<ClientMetric::Label> labels,
                    double value) {
  MetricFamily family = NewFamily(std::move(name), std::move(help));
  Add(family, std::move(labels), value);
  return family;
}

std::string Str(std::string_view s) { return std::string(s); }

// The text format written directly, for the listener families: thousands of series, where
// prometheus-cpp's MetricFamily tree would cost ten times the text in small allocations.
// `help` must hold no backslash or newline (it is not escaped).
void AppendHeader(std::string& out, std::string_view name, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " gauge\n";
}

// A label value as the text format wants it: valid UTF-8 (see ValidUtf8), with \\, " and
// newline escaped.
void AppendLabelValue(std::string& out, std::string_view value) {
  const bool plain = std::none_of(value.begin(), value.end(), [](char c) {
    return static_cast<uint8_t>(c) >= 0x80 || c == '\\' || c == '"' || c == '\n';
  });
  if (plain) {
    out += value;
    return;
  }
  for (char c : ValidUtf8(std::string(value))) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendNumber(std::string& out, uint64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

void PolicyMetrics(const Snapshot& snap, std::vector<MetricFamily>& out) {
  const PolicyState& p = snap.policy;
  auto satisfied = NewFamily("portwarden_expectation_satisfied",
                             "Whether the expectation (rule) held in the last collection cycle.");
  for (const auto& e : p.evaluation.expectations) {
    Add(satisfied, {{"rule", e.name}}, e.satisfied ? 1 : 0);
  }
  out.push_back(std::move(satisfied));

  // Active findings: raised and not yet resolved (resolution waits out the hold-down).
  auto finding = NewFamily("portwarden_finding",
                           "An active finding (raised, not resolved by the hold-down), as of "
                           "the last collection cycle; value is always 1.");
  std::map<policy::FindingKind, int> per_kind;
  // Two findings can differ only in what the labels leave out (a wildcard bind conflicting
  // with two others on one address): one series for both, a duplicate would fail the scrape.
  std::set<std::vector<std::string>> exposed;
  for (const auto& [key, tracked] : p.active) {
    const policy::Finding& f = tracked.finding;
    ++per_kind[f.kind];
    std::vector<std::string> values{Str(policy::ToString(f.kind)), f.rule,
                                    Str(ToString(f.proto)),         f.address,
                                    std::to_string(f.port),         f.owner_identity};
    if (!exposed.insert(values).second) continue;
    Add(finding,
        {{"kind", values[0]},
         {"rule", values[1]},
         {"proto", values[2]},
         {"address", values[3]},
         {"port", values[4]},
         {"owner", values[5]}},
        1);
  }
  out.push_back(std::move(finding));
  auto findings = NewFamily("portwarden_findings", "Active findings by kind, as of the last cycle.");
  for (auto kind : policy::kFindingKinds) {
    Add(findings, {{"kind", Str(policy::ToString(kind))}}, per_kind[kind]);
  }
  out.push_back(std::move(findings));

  auto changes = NewFamily("portwarden_owner_changes_total", "Times the owner of an address on this "
                           "port changed between two collection cycles.", MetricType::Counter);
  for (const auto& [port, n] : p.owner_changes) {
    Add(changes, {{"proto", Str(ToString(port.first))}, {"port", std::to_string(port.second)}},
        static_cast<double>(n));
  }
  out.push_back(std::move(changes));

  auto failures = NewFamily("portwarden_bind_failures_total",
                            "Failed bind() and listen() calls seen by the bind watch, by the "
                            "address asked for, the caller's process name and the errno.",
                            MetricType::Counter);
  for (const auto& [series, n] : p.bind_failures) {
    Add(failures,
        {{"proto", Str(ToString(series.proto))},
         {"address", series.address},
         {"port", std::to_string(series.port)},
         {"process", series.process},
         {"errno", series.error}},
        static_cast<double>(n));
  }
  out.push_back(std::move(failures));
}

}  // namespace

MetricFamily NewFamily(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

void Add(MetricFamily& family, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  for (auto& label : labels) label.value = ValidUtf8(std::move(label.value));
  m.label = std::move(labels);
  if (family.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family.metric.push_back(std::move(m));
}


std::string ListenerMetricsText(const ListenerSet& set) {
  std::string out;
  // About 400 bytes per listener at the large benchmark scale (three series and its share
  // of portwarden_port_owners): one allocation, mapped on its own (see ConfigureHeap), so
  // the pages of the reserve never written are never resident.
  out.reserve(4096 + set.listeners.size() * 640);
  // The labels naming a listener, without the closing brace: proto, family, address, port,
  // pid (empty for an unknown owner); then netns (inode; empty where unknown), last so
  // that the labels from before namespaces keep their order.
  auto id = [&out](std::string_view name, const Listener& l) {
    out += name;
    out += "{proto=\"";
    out += ToString(l.proto);
    out += "\",family=\"";
    out += ToString(l.family);
    out += "\",address=\"";
    AppendLabelValue(out, l.address);
    out += "\",port=\"";
    AppendNumber(out, l.port);
    out += "\",pid=\"";
    // No PID where the owner is unknown, or a NAT forward goes nowhere on this host.
    if (l.owner.kind != OwnerKind::kUnknown && !l.owner.holders.empty()) {
      AppendNumber(out, l.owner.main().pid);
    }
    out += '"';
  };
  auto netns = [&out](const Listener& l) {
    out += ",netns=\"";
    if (l.netns != 0) AppendNumber(out, l.netns);
    out += '"';
  };

  AppendHeader(out, "portwarden_listener_info",
               "Listening socket and its main owner, as sampled by the last collection cycle; "
               "value is always 1.");
  for (const Listener& l : set.listeners) {
    const Process& main = l.owner.main();
    id("portwarden_listener_info", l);
    out += ",kind=\"";
    out += ToString(l.owner.kind);
    out += "\",process=\"";
    AppendLabelValue(out, main.name);
    out += "\",user=\"";
    AppendLabelValue(out, main.user);
    out += "\",service=\"";
    AppendLabelValue(out, l.owner.service());
    out += '"';
    netns(l);
    out += ",netns_name=\"";
    AppendLabelValue(out, l.netns_name);
    out += "\",container=\"";
    AppendLabelValue(out, main.container);
    out += "\",pod=\"";
    AppendLabelValue(out, main.pod);
    out += "\",socket_unit=\"";
    AppendLabelValue(out, l.owner.socket_unit);
    out += "\",supervisor=\"";
    if (l.owner.supervisor) AppendLabelValue(out, l.owner.supervisor->name);
    out += "\"} 1\n";
  }
  AppendHeader(out, "portwarden_nat_forward_info",
               "Port published by a destination NAT rule (Linux nf_tables; the listener of "
               "kind nat, which has no socket) and the address:port it forwards to; value is "
               "always 1.");
  for (const Listener& l : set.listeners) {
    if (l.owner.kind != OwnerKind::kNat) continue;
    id("portwarden_nat_forward_info", l);
    netns(l);
    out += ",forwards_to=\"";
    AppendLabelValue(out, l.owner.forwards_to);
    out += "\"} 1\n";
  }
  // A family of one series per listener, labelled by the listener alone.
  auto per_listener = [&](std::string_view name, std::string_view help, auto value) {
    AppendHeader(out, name, help);
    for (const Listener& l : set.listeners) {
      id(name, l);
      netns(l);
      out += "} ";
      AppendNumber(out, value(l));
      out += '\n';
    }
  };
  per_listener("portwarden_listener_sockets",
               "Sockets behind one listener (SO_REUSEPORT groups count each socket), as sampled "
               "by the last collection cycle.",
               [](const Listener& l) { return static_cast<uint64_t>(l.sockets); });
  per_listener("portwarden_listener_processes",
               "Processes holding the listener's socket(s) (e.g. a master and its workers), as "
               "sampled by the last collection cycle.",
               [](const Listener& l) { return l.owner.holders.size(); });

  // By namespace: the same port in two namespaces is not shared.
  std::map<std::tuple<Proto, uint16_t, uint64_t>, std::set<std::string>> owners;
  for (const Listener& l : set.listeners) {
    owners[{l.proto, l.port, l.netns}].insert(policy::OwnerIdentity(l.owner));
  }
  AppendHeader(out, "portwarden_port_owners",
               "Distinct owners holding a port (any address) in one network namespace, as "
               "sampled by the last collection cycle; more than 1 means a shared port.");
  for (const auto& [port, distinct] : owners) {
    out += "portwarden_port_owners{proto=\"";
    out += ToString(std::get<0>(port));
    out += "\",port=\"";
    AppendNumber(out, std::get<1>(port));
    out += "\",netns=\"";
    if (std::get<2>(port) != 0) AppendNumber(out, std::get<2>(port));
    out += "\"} ";
    AppendNumber(out, distinct.size());
    out += '\n';
  }
  return out;
}

std::shared_ptr<const RenderedBody> ListenerBody(std::shared_ptr<const ListenerSet> listeners) {
  return std::make_shared<const RenderedBody>(
      [listeners = std::move(listeners)] { return ListenerMetricsText(*listeners); });
}

std::vector<MetricFamily> SnapshotMetrics(const Snapshot* snap, const ReloadStatus& reload) {
  std::vector<MetricFamily> out;
  BuildInfo build = GetBuildInfo();
  out.push_back(Single("portwarden_build_info",
                       "A metric with a constant '1' value labeled by version and revision "
                       "of portwarden.",
                       {{"version", build.version}, {"revision", build.revision}}, 1));
  out.push_back(Single("portwarden_config_last_reload_successful",
                       "Whether the last configuration load or reload succeeded.", {},
                       reload.successful ? 1 : 0));
  out.push_back(Single("portwarden_config_last_reload_success_timestamp_seconds",
                       "Timestamp of the last successful configuration load or reload.", {},
                       reload.success_timestamp));
  if (snap == nullptr) return out;
  PolicyMetrics(*snap, out);

  const ListenerSet& set = *snap->listeners;
  auto count = NewFamily("portwarden_listeners",
                         "Listeners after the port filters (before the series cap), as sampled "
                         "by the last collection cycle.");
  Add(count, {{"proto", "tcp"}}, static_cast<double>(set.tcp));
  Add(count, {{"proto", "udp"}}, static_cast<double>(set.udp));
  out.push_back(std::move(count));
  auto unattributed = NewFamily("portwarden_listeners_unattributed",
                                "Listeners whose owning process could not be read (no "
                                "permission or process gone), as sampled by the last cycle.");
  Add(unattributed, {{"proto", "tcp"}}, static_cast<double>(set.unattributed_tcp));
  Add(unattributed, {{"proto", "udp"}}, static_cast<double>(set.unattributed_udp));
  out.push_back(std::move(unattributed));
  out.push_back(Single("portwarden_listeners_dropped",
                       "Listeners left out of portwarden_listener_info by "
                       "listeners.max_series in the last collection cycle.",
                       {}, static_cast<double>(set.dropped)));
  out.push_back(Single("portwarden_listener_source_info",
                       "Socket table the listener collector read in the last cycle (netlink, "
                       "procfs, iphlpapi); value is always 1.",
                       {{"backend", snap->listener_backend}}, 1));

  out.push_back(Single("portwarden_bind_event_source_info",
                       "Kernel event source of the bind watch (failed binds, new listeners): "
                       "ebpf, or none; value is always 1.",
                       {{"source", snap->bind_source}}, 1));
  auto dropped = NewFamily("portwarden_bind_events_dropped_total",
                           "Bind watch events lost: the kernel's queue was full or a record did "
                           "not decode.", MetricType::Counter);
  Add(dropped, {}, static_cast<double>(snap->bind_events_dropped));
  out.push_back(std::move(dropped));

  AppendHttpSysMetrics(*snap, out);
  auto success = NewFamily("portwarden_collector_success",
                           "Whether the collector succeeded in the last collection cycle.");
  auto duration = NewFamily("portwarden_collector_duration_seconds",
                            "How long the collector took in the last collection cycle.");
  for (const auto& c : snap->collectors) {
    Add(success, {{"collector", c.name}}, c.success ? 1 : 0);
    Add(duration, {{"collector", c.name}}, c.duration_seconds);
  }
  out.push_back(std::move(success));
  out.push_back(std::move(duration));
  out.push_back(Single("portwarden_last_collection_timestamp_seconds",
                       "Unix time when the last collection cycle finished.", {},
                       snap->timestamp));
  return out;
}

std::string RenderText(const std::vector<MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace portwarden
