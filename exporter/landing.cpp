#include "exporter/landing.h"

#include <ctime>

#include "exporter/build_info.h"
#include "exporter/httpsys_metrics.h"

namespace portwarden {

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string LandingPage(const Snapshot* snap, const std::string& telemetry_path) {
  BuildInfo build = GetBuildInfo();
  std::string h =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>portwarden</title>"
      "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
      "th{background:#eee}.err{color:#b00}</style></head><body>\n"
      "<h1>portwarden</h1>\n<p>Port ownership exporter, version " +
      HtmlEscape(build.version) + " (" + HtmlEscape(build.revision) + ").</p>\n<ul>"
      "<li><a href=\"" + HtmlEscape(telemetry_path) + "\">Metrics</a></li>"
      "<li><a href=\"-/healthy\">Health</a></li><li><a href=\"-/ready\">Readiness</a></li>"
      "</ul>\n";
  if (snap == nullptr) return h + "<p>The first collection has not finished yet.</p></body></html>\n";

  const PolicyState& policy = snap->policy;
  if (!policy.active.empty()) {
    h += "<h2 class=\"err\">Findings (" + std::to_string(policy.active.size()) +
         ")</h2>\n<ul class=\"err\">\n";
    for (const auto& [key, tracked] : policy.active) {
      const policy::Finding& f = tracked.finding;
      h += "<li><b>" + std::string(policy::ToString(f.kind)) + "</b>" +
           (f.rule.empty() ? "" : " [" + HtmlEscape(f.rule) + "]") + " " +
           std::string(ToString(f.proto)) + " " + HtmlEscape(f.address) + ":" +
           std::to_string(f.port) + ": " + HtmlEscape(f.explanation);
      if (!f.remediation.empty()) h += "<br>Fix: <code>" + HtmlEscape(f.remediation) + "</code>";
      h += "</li>\n";
    }
    h += "</ul>\n";
  } else {
    h += "<p>No findings: " + std::to_string(policy.evaluation.expectations.size()) +
         " expectation(s) hold.</p>\n";
  }
  for (const auto& c : snap->collectors) {
    if (!c.success) {
      h += "<p class=\"err\">Collector " + HtmlEscape(c.name) + " failed: " +
           HtmlEscape(c.error) + "</p>\n";
    }
  }
  std::time_t t = static_cast<std::time_t>(snap->timestamp);
  char when[32] = "";
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  h += "<h2>Listeners</h2>\n<p>Sampled at " + std::string(when) + " from " +
       HtmlEscape(snap->listener_backend) + ": " + std::to_string(snap->listeners->tcp) +
       " TCP, " + std::to_string(snap->listeners->udp) + " UDP";
  if (snap->listeners->dropped > 0) {
    h += ", " + std::to_string(snap->listeners->dropped) + " over listeners.max_series not shown";
  }
  h += ".</p>\n<table><tr><th>Proto</th><th>Address</th><th>Port</th><th>Owner</th>"
       "<th>PID</th><th>Process</th><th>User</th><th>Service</th><th>Sockets</th>"
       "<th>Holders</th></tr>\n";
  for (const Listener& l : snap->listeners->listeners) {
    const Process& m = l.owner.main();
    bool known = l.owner.kind != OwnerKind::kUnknown;
    std::string holders;
    for (const auto& p : l.owner.holders) {
      holders += (holders.empty() ? "" : ", ") + std::to_string(p->pid);
    }
    h += "<tr><td>" + std::string(ToString(l.proto)) + "</td><td>" + HtmlEscape(l.address) +
         "</td><td>" + std::to_string(l.port) + "</td><td>" +
         std::string(ToString(l.owner.kind)) + "</td><td>" +
         (known ? std::to_string(m.pid) : "") + "</td><td>" + HtmlEscape(m.name) +
         "</td><td>" + HtmlEscape(m.user) + "</td><td>" + HtmlEscape(m.service) +
         "</td><td>" + std::to_string(l.sockets) + "</td><td>" + holders + "</td></tr>\n";
  }
  return h + "</table>\n" + HttpSysLandingSection(snap->httpsys) + "</body></html>\n";
}

}  // namespace portwarden
