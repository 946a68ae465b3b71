#include "exporter/httpsys_metrics.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

#include "exporter/landing.h"

namespace portwarden {
namespace {

using httpsys::HttpSysState;
using httpsys::RequestQueue;
using httpsys::TlsBinding;
using httpsys::TlsBindingKind;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

/// A gauge family that refuses a repeated label set: the same series twice would make
/// Prometheus reject the whole scrape, and host data can repeat ("::" and "0::0" on the
/// listen list, two ACEs for one account).
class Gauges {
 public:
  Gauges(std::string name, std::string help)
      : family_{std::move(name), std::move(help), MetricType::Gauge, {}} {}

  void Add(std::vector<ClientMetric::Label> labels, double value) {
    std::vector<std::string> key;
    for (const auto& l : labels) key.push_back(l.value);
    if (!seen_.insert(std::move(key)).second) return;
    ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    family_.metric.push_back(std::move(m));
  }

  MetricFamily Take() && { return std::move(family_); }

 private:
  MetricFamily family_;
  std::set<std::vector<std::string>> seen_;
};

std::string_view KindLabel(TlsBindingKind kind) {
  switch (kind) {
    case TlsBindingKind::kIpPort:
      return "ipport";
    case TlsBindingKind::kHostnamePort:
      return "hostnameport";
    case TlsBindingKind::kCcs:
      return "ccs";
  }
  return "unknown";
}

std::string Bool(bool b) { return b ? "true" : "false"; }

std::string Principal(const httpsys::UrlAclPrincipal& p) {
  if (!p.account.empty()) return p.account;
  return p.sid.empty() ? p.trustee : p.sid;
}

/// The processes attached to a queue, described as for attribution.
std::vector<Process> Attached(const RequestQueue& q, const HttpSysState& state) {
  std::vector<Process> out;
  for (const auto& p : q.processes) {
    out.push_back(httpsys::DescribeQueueProcess(p.pid, &p, state.queue_processes));
  }
  return out;
}

/// "2026-01-01" (UTC). Calendar arithmetic, not gmtime: status pages render on several web
/// server threads at once, and gmtime shares one buffer.
std::string FormatDate(int64_t unix_seconds) {
  using namespace std::chrono;
  const year_month_day date{floor<days>(sys_seconds{seconds{unix_seconds}})};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return out;
}

std::string JoinAddresses(const std::vector<httpsys::IpListenEntry>& list) {
  if (list.empty()) return "empty (HTTP.sys binds every address)";
  std::string out;
  for (const auto& e : list) out += (out.empty() ? "" : ", ") + e.address;
  return out;
}

}  // namespace

std::vector<httpsys::AddressClaim> HttpSysClaims(
    const std::vector<policy::Expectation>& expectations) {
  Owner http_sys;
  http_sys.kind = OwnerKind::kHttpSys;
  http_sys.holders = {std::make_shared<const Process>(Process{4, 0, "System", "", "", "", "", "", "", {}})};
  std::vector<httpsys::AddressClaim> claims;
  for (const policy::Expectation& e : expectations) {
    if (!e.owner || e.owner->kind == OwnerKind::kHttpSys || e.owner->Matches(http_sys)) continue;
    for (const policy::ListenSpec& spec : e.listen) {
      if (spec.proto == Proto::kTcp) claims.push_back({e.name, spec.address, spec.port});
    }
  }
  return claims;
}

void ApplyHttpSys(Snapshot& snap, httpsys::HttpSysCollection collection,
                  const std::vector<policy::Expectation>& expectations) {
  HttpSysState& state = collection.state;
  bool listeners_read = false;
  for (const CollectorStatus& c : snap.collectors) {
    if (c.name == "listeners") listeners_read = c.success;
  }
  for (auto& s : collection.statuses) {
    snap.collectors.push_back(
        {std::move(s.name), s.success, s.duration_seconds, std::move(s.error)});
  }
  const bool attributed = listeners_read && state.queues.has_value();
  if (attributed) {
    // The set may be shared with earlier snapshots: attribute a copy.
    auto listeners = std::make_shared<ListenerSet>(*snap.listeners);
    state.attributed_listeners = httpsys::AttributeHttpSysListeners(
        listeners->listeners, *state.queues, state.queue_processes);
    snap.listeners = std::move(listeners);
  }
  state.pending_restart =
      httpsys::CheckPendingRestart(state.iplisten_api, state.iplisten_registry,
                                   attributed ? &snap.listeners->listeners : nullptr);
  const auto* list = httpsys::ConfiguredListenList(state.iplisten_api, state.iplisten_registry);
  if (list != nullptr && (state.queues || state.urlacls)) {
    std::vector<std::string> registered;
    if (state.queues) {
      for (const RequestQueue& q : *state.queues) {
        registered.insert(registered.end(), q.urls.begin(), q.urls.end());
      }
    }
    state.latent = httpsys::FindLatentConflicts(
        *list, registered, state.urlacls.value_or(std::vector<httpsys::UrlReservation>{}),
        HttpSysClaims(expectations));
  }
  snap.httpsys = std::move(state);
}

std::vector<std::string> QueueLabels(const std::vector<RequestQueue>& queues) {
  std::vector<std::string> labels;
  std::map<std::string, int> uses;
  for (const RequestQueue& q : queues) {
    std::string label = q.name;
    if (label.empty()) {
      std::optional<uint32_t> lowest = q.controller_pid;
      for (const auto& p : q.processes) {
        if (!lowest || p.pid < *lowest) lowest = p.pid;
      }
      label = lowest ? "unnamed:" + std::to_string(*lowest) : "unnamed";
    }
    int n = ++uses[label];
    labels.push_back(n == 1 ? label : label + "#" + std::to_string(n));
  }
  return labels;
}

void AppendHttpSysMetrics(const Snapshot& snap, std::vector<MetricFamily>& out) {
  const HttpSysState& s = snap.httpsys;
  if (!s.collected) return;

  Gauges iplisten("portwarden_httpsys_iplisten_info",
                  "An address on the HTTP.sys IP listen list, as the HTTP service reports it "
                  "(source=api) and as configured in the registry ListenOnlyList "
                  "(source=registry); an empty list means HTTP.sys binds every address.");
  Gauges entries("portwarden_httpsys_iplisten_entries",
                 "Addresses on the HTTP.sys IP listen list by source; 0 means HTTP.sys binds "
                 "every address.");
  for (const auto& [source, list] :
       {std::pair{"api", &s.iplisten_api}, std::pair{"registry", &s.iplisten_registry}}) {
    if (!*list) continue;
    for (const auto& e : **list) iplisten.Add({{"source", source}, {"address", e.address}}, 1);
    entries.Add({{"source", source}}, static_cast<double>((*list)->size()));
  }
  out.push_back(std::move(iplisten).Take());
  out.push_back(std::move(entries).Take());

  Gauges pending("portwarden_httpsys_iplisten_pending_restart",
                 "1 if the configured IP listen list differs from what HTTP.sys has loaded or "
                 "binds, so it takes effect only at the next restart of HTTP.sys or reboot.");
  if (s.pending_restart) pending.Add({}, s.pending_restart->pending ? 1 : 0);
  out.push_back(std::move(pending).Take());

  Gauges latent("portwarden_httpsys_latent_conflict",
                "HTTP.sys will bind an address:port that the expectation (rule) gives to "
                "another owner, at its next start or as soon as a URL is registered there, "
                "given the configured listen list and the registrations and reservations.");
  Gauges unexpected("portwarden_httpsys_urlacl_unexpected",
                    "A URL reservation on a port where HTTP.sys, with the configured listen "
                    "list, would bind an address an expectation gives to another owner.");
  if (s.latent) {
    for (const auto& c : s.latent->conflicts) {
      latent.Add({{"address", c.address}, {"port", std::to_string(c.port)}, {"rule", c.rule}}, 1);
    }
    for (const auto& url : s.latent->unexpected_reservations) unexpected.Add({{"url", url}}, 1);
  }
  out.push_back(std::move(latent).Take());

  Gauges urlacl("portwarden_httpsys_urlacl_info",
                "A principal of an HTTP.sys URL reservation (URL ACL) and its rights: listen "
                "(may register URLs under it) and delegate.");
  if (s.urlacls) {
    for (const auto& r : *s.urlacls) {
      for (const auto& p : r.principals) {
        urlacl.Add({{"url", r.url},
                    {"principal", Principal(p)},
                    {"listen", Bool(p.listen)},
                    {"delegate", Bool(p.delegate)}},
                   1);
      }
    }
  }
  out.push_back(std::move(urlacl).Take());
  out.push_back(std::move(unexpected).Take());
  Gauges mismatch("portwarden_httpsys_urlacl_registry_mismatch",
                  "A URL reservation on which the HTTP service and the registry disagree "
                  "(difference: api_only, registry_only, rights); it changes at the next "
                  "restart of HTTP.sys.");
  for (const auto& m : s.urlacl_mismatches) {
    mismatch.Add({{"url", m.url}, {"difference", m.difference}}, 1);
  }
  out.push_back(std::move(mismatch).Take());

  Gauges sslcert("portwarden_httpsys_sslcert_info",
                 "An HTTP.sys TLS binding (kind: ipport, hostnameport for SNI, ccs for the "
                 "Central Certificate Store) and its certificate.");
  Gauges not_after("portwarden_httpsys_sslcert_not_after_seconds",
                   "Expiry (NotAfter, Unix seconds) of the certificate of an HTTP.sys TLS "
                   "binding, where the local machine store holds it.");
  if (s.tls_bindings) {
    for (const TlsBinding& b : *s.tls_bindings) {
      sslcert.Add({{"kind", std::string(KindLabel(b.kind))},
                   {"endpoint", b.endpoint},
                   {"cert_hash", b.cert_hash},
                   {"app_id", b.app_id},
                   {"store", b.store}},
                  1);
      if (b.not_after) {
        not_after.Add({{"endpoint", b.endpoint}, {"cert_hash", b.cert_hash}},
                      static_cast<double>(*b.not_after));
      }
    }
  }
  out.push_back(std::move(sslcert).Take());
  out.push_back(std::move(not_after).Take());

  Gauges queue_info("portwarden_httpsys_request_queue_info",
                    "A process attached to an HTTP.sys request queue, with its services; a "
                    "queue without processes (an idle IIS application pool) has one series "
                    "with an empty pid.");
  Gauges queue_urls("portwarden_httpsys_request_queue_urls",
                    "URLs registered on an HTTP.sys request queue.");
  if (s.queues) {
    const std::vector<std::string> labels = QueueLabels(*s.queues);
    for (size_t i = 0; i < s.queues->size(); ++i) {
      const RequestQueue& q = (*s.queues)[i];
      std::vector<Process> attached = Attached(q, s);
      if (attached.empty()) attached.emplace_back();
      for (const Process& p : attached) {
        queue_info.Add({{"queue", labels[i]},
                        {"pid", p.pid == 0 ? "" : std::to_string(p.pid)},
                        {"process", p.name},
                        {"service", p.service}},
                       1);
      }
      queue_urls.Add({{"queue", labels[i]}}, static_cast<double>(q.urls.size()));
    }
  }
  out.push_back(std::move(queue_info).Take());
  out.push_back(std::move(queue_urls).Take());

  Gauges excluded("portwarden_excluded_port_range_info",
                  "A range of ports (inclusive) nobody may bind, reserved by an administrator "
                  "or by Hyper-V, WinNAT, ...: binds there fail although netstat shows nothing.");
  for (const auto& list : s.excluded_port_ranges) {
    for (const auto& r : list.ranges) {
      excluded.Add({{"proto", std::string(ToString(list.proto))},
                    {"family", std::string(ToString(list.family))},
                    {"start", std::to_string(r.start)},
                    {"end", std::to_string(r.end)}},
                   1);
    }
  }
  out.push_back(std::move(excluded).Take());

  Gauges skipped("portwarden_httpsys_records_skipped",
                 "Records or lines an HTTP.sys sub-collector could not read and skipped in the "
                 "last collection cycle.");
  for (const auto& [collector, n] : s.skipped) skipped.Add({{"collector", collector}}, n);
  out.push_back(std::move(skipped).Take());
}

nlohmann::json UrlReservationJson(const httpsys::UrlReservation& r) {
  nlohmann::json principals = nlohmann::json::array();
  for (const auto& p : r.principals) {
    principals.push_back({{"account", p.account},
                          {"sid", p.sid},
                          {"trustee", p.trustee},
                          {"listen", p.listen},
                          {"delegate", p.delegate}});
  }
  return {{"url", r.url}, {"sddl", r.sddl}, {"principals", principals}};
}

nlohmann::json TlsBindingJson(const TlsBinding& b) {
  nlohmann::json options = nlohmann::json::array();
  for (const auto& o : b.options) options.push_back({{"label", o.label}, {"value", o.value}});
  return {{"kind", KindLabel(b.kind)},
          {"endpoint", b.endpoint},
          {"host", b.host},
          {"port", b.port},
          {"cert_hash", b.cert_hash},
          {"app_id", b.app_id},
          {"store", b.store},
          {"not_after", b.not_after ? nlohmann::json(*b.not_after) : nlohmann::json(nullptr)},
          {"options", options}};
}

nlohmann::json ExcludedPortRangeJson(const httpsys::ExcludedPortRange& r) {
  return {{"start", r.start}, {"end", r.end}, {"administered", r.administered}};
}

nlohmann::json HttpSysJson(const HttpSysState& s) {
  if (!s.collected) return nullptr;
  using nlohmann::json;
  auto list = [](const std::optional<std::vector<httpsys::IpListenEntry>>& l) -> json {
    if (!l) return nullptr;
    json out = json::array();
    for (const auto& e : *l) out.push_back(e.address);
    return out;
  };
  json pending = nullptr;
  if (s.pending_restart) {
    pending = {{"pending", s.pending_restart->pending}, {"reasons", s.pending_restart->reasons}};
  }
  json urlacls = nullptr;
  if (s.urlacls) {
    urlacls = json::array();
    for (const auto& r : *s.urlacls) urlacls.push_back(UrlReservationJson(r));
  }
  json mismatches = json::array();
  for (const auto& m : s.urlacl_mismatches) {
    mismatches.push_back({{"url", m.url}, {"difference", m.difference}});
  }
  json tls = nullptr;
  if (s.tls_bindings) {
    tls = json::array();
    for (const TlsBinding& b : *s.tls_bindings) tls.push_back(TlsBindingJson(b));
  }
  json queues = nullptr;
  if (s.queues) {
    queues = json::array();
    const std::vector<std::string> labels = QueueLabels(*s.queues);
    for (size_t i = 0; i < s.queues->size(); ++i) {
      const RequestQueue& q = (*s.queues)[i];
      json processes = json::array();
      for (const Process& p : Attached(q, s)) {
        processes.push_back(
            {{"pid", p.pid}, {"process", p.name}, {"exe", p.exe}, {"service", p.service}});
      }
      json controller = nullptr;
      if (q.controller_pid) {
        Process c = httpsys::DescribeQueueProcess(*q.controller_pid, nullptr, s.queue_processes);
        controller = {{"pid", c.pid}, {"process", c.name}, {"service", c.service}};
      }
      queues.push_back({{"queue", labels[i]},
                        {"name", q.name},
                        {"version", q.version},
                        {"processes", processes},
                        {"controller", controller},
                        {"urls", q.urls},
                        {"urls_from_groups", q.urls_from_groups}});
    }
  }
  json latent = nullptr;
  if (s.latent) {
    json conflicts = json::array();
    for (const auto& c : s.latent->conflicts) {
      conflicts.push_back({{"rule", c.rule},
                           {"address", c.address},
                           {"port", c.port},
                           {"bind", c.bind},
                           {"urls", c.urls}});
    }
    latent = {{"conflicts", conflicts},
              {"unexpected_reservations", s.latent->unexpected_reservations}};
  }
  json excluded = json::array();
  for (const auto& l : s.excluded_port_ranges) {
    json ranges = json::array();
    for (const auto& r : l.ranges) ranges.push_back(ExcludedPortRangeJson(r));
    excluded.push_back(
        {{"proto", ToString(l.proto)}, {"family", ToString(l.family)}, {"ranges", ranges}});
  }
  return {{"iplisten",
           {{"api", list(s.iplisten_api)},
            {"registry", list(s.iplisten_registry)},
            {"pending_restart", pending}}},
          {"urlacls",
           {{"source", s.urlacl_source},
            {"reservations", urlacls},
            {"registry_mismatches", mismatches}}},
          {"tls_bindings", tls},
          {"request_queues", queues},
          {"attributed_listeners", s.attributed_listeners},
          {"latent", latent},
          {"excluded_port_ranges", excluded},
          {"skipped", s.skipped}};
}

std::string HttpSysLandingSection(const HttpSysState& s, double now) {
  if (!s.collected) return {};
  std::string h = "<h2>HTTP.sys</h2>\n<p>IP listen list: ";
  h += s.iplisten_registry ? "registry " + HtmlEscape(JoinAddresses(*s.iplisten_registry))
                           : std::string("registry unreadable");
  h += s.iplisten_api ? "; service " + HtmlEscape(JoinAddresses(*s.iplisten_api))
                      : std::string("; service unreadable");
  h += ".</p>\n";
  if (s.pending_restart && s.pending_restart->pending) {
    h +=
        "<p class=\"err\">The listen list waits for a restart of HTTP.sys:</p>\n<ul class=\"err\">";
    for (const auto& r : s.pending_restart->reasons) h += "<li>" + HtmlEscape(r) + "</li>";
    h += "</ul>\n";
  }
  if (s.latent && !s.latent->conflicts.empty()) {
    h += "<p class=\"err\">At its next start HTTP.sys will bind addresses expected elsewhere:"
         "</p>\n<ul class=\"err\">";
    for (const auto& c : s.latent->conflicts) {
      std::string urls;
      for (const auto& u : c.urls) urls += (urls.empty() ? "" : ", ") + u;
      h += "<li>" + HtmlEscape(c.bind) + ":" + std::to_string(c.port) + " covers " +
           HtmlEscape(c.address) + ":" + std::to_string(c.port) + " of rule " + HtmlEscape(c.rule) +
           " (because of " + HtmlEscape(urls) + ")</li>";
    }
    h += "</ul>\n";
  }
  if (s.queues) {
    h += "<h3>Request queues</h3>\n<table><tr><th>Queue</th><th>Processes</th>"
         "<th>Controller</th><th>URLs</th></tr>\n";
    const std::vector<std::string> labels = QueueLabels(*s.queues);
    for (size_t i = 0; i < s.queues->size(); ++i) {
      const RequestQueue& q = (*s.queues)[i];
      std::string processes;
      for (const Process& p : Attached(q, s)) {
        processes += (processes.empty() ? "" : "<br>") + std::to_string(p.pid) + " " +
                     HtmlEscape(p.name) +
                     (p.service.empty() ? "" : " (" + HtmlEscape(p.service) + ")");
      }
      std::string controller;
      if (q.controller_pid) {
        Process c = httpsys::DescribeQueueProcess(*q.controller_pid, nullptr, s.queue_processes);
        controller = std::to_string(c.pid) + " " + HtmlEscape(c.name) +
                     (c.service.empty() ? "" : " (" + HtmlEscape(c.service) + ")");
      }
      std::string urls;
      for (const auto& u : q.urls) urls += (urls.empty() ? "" : "<br>") + HtmlEscape(u);
      h += "<tr><td>" + HtmlEscape(labels[i]) + "</td><td>" + processes + "</td><td>" + controller +
           "</td><td>" + urls + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  if (s.tls_bindings && !s.tls_bindings->empty()) {
    h += "<h3>TLS bindings</h3>\n<table><tr><th>Kind</th><th>Endpoint</th><th>Certificate"
         "</th><th>Store</th><th>Expires</th><th>Validity</th></tr>\n";
    for (const TlsBinding& b : *s.tls_bindings) {
      std::string validity;
      if (b.not_after) {
        const double days = (static_cast<double>(*b.not_after) - now) / 86400;
        validity = days < 0    ? "<td class=\"err\">expired</td>"
                   : days < 30 ? "<td class=\"warn\">expires in " +
                                     std::to_string(static_cast<int>(days)) + " day(s)</td>"
                               : "<td class=\"ok\">" + std::to_string(static_cast<int>(days)) +
                                     " days left</td>";
      } else {
        validity = "<td>unknown</td>";
      }
      h += "<tr><td>" + std::string(KindLabel(b.kind)) + "</td><td>" + HtmlEscape(b.endpoint) +
           "</td><td>" + HtmlEscape(b.cert_hash) + "</td><td>" + HtmlEscape(b.store) + "</td><td>" +
           (b.not_after ? FormatDate(*b.not_after) : "") + "</td>" + validity + "</tr>\n";
    }
    h += "</table>\n";
  }
  if (s.urlacls) {
    h += "<h3>URL reservations</h3>\n<p>" + std::to_string(s.urlacls->size()) +
         " reservation(s), from the " + HtmlEscape(s.urlacl_source) + ".</p>\n";
    const std::vector<std::string> none;
    const auto& unexpected = s.latent ? s.latent->unexpected_reservations : none;
    if (!s.urlacls->empty()) {
      h += "<table><tr><th>URL</th><th>Principals</th><th>Note</th></tr>\n";
      for (const httpsys::UrlReservation& r : *s.urlacls) {
        std::string principals;
        for (const auto& p : r.principals) {
          principals += (principals.empty() ? "" : "<br>") + HtmlEscape(Principal(p)) +
                        (p.listen ? " listen" : "") + (p.delegate ? " delegate" : "");
        }
        const bool elsewhere =
            std::find(unexpected.begin(), unexpected.end(), r.url) != unexpected.end();
        h += "<tr><td>" + HtmlEscape(r.url) + "</td><td>" + principals + "</td>" +
             (elsewhere ? "<td class=\"err\">on a port expected elsewhere</td>" : "<td></td>") +
             "</tr>\n";
      }
      h += "</table>\n";
    }
  }
  size_t ranges = 0;
  for (const auto& l : s.excluded_port_ranges) ranges += l.ranges.size();
  if (ranges > 0) {
    h += "<p>" + std::to_string(ranges) +
         " excluded port range(s): see portwarden_excluded_port_range_info.</p>\n";
  }
  return h;
}

}  // namespace portwarden
