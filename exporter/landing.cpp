#include "exporter/landing.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include "collectors/common/text.h"
#include "exporter/build_info.h"
#include "exporter/httpsys_metrics.h"
#include "exporter/report.h"

namespace portwarden {
namespace {

// How many of the newest events the page shows (the API serves the whole history).
constexpr size_t kShownEvents = 25;

// Inline, so the page needs nothing but the binary.
constexpr char kStyle[] = R"(<style>
:root{--bad:#b3261e;--ok:#1e7a34;--warn:#8a5a00;--line:#d0d7de;--head:#f3f5f7}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328}
header{background:#24292f;color:#fff;padding:.6em 1.5em;display:flex;gap:1.2em;
 align-items:baseline;flex-wrap:wrap}
header h1{font-size:1.3em;margin:0}header a{color:#9ecbff}header .meta{color:#c9d1d9}
main{padding:0 1.5em 2em;max-width:110em}
h2{font-size:1.15em;margin:1.3em 0 .4em}h3{font-size:1em;margin:1em 0 .3em}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--head);position:sticky;top:0}th a{color:inherit}
.err{color:var(--bad)}.ok{color:var(--ok)}.warn{color:var(--warn)}
ul.findings{list-style:none;padding:0;margin:0}
.finding{border-left:4px solid var(--bad);background:#fff5f5;padding:.45em .8em;margin:.4em 0}
.finding .kind{font-weight:600}.finding .fix code{white-space:pre-wrap}
code{background:#f6f8fa;border:1px solid var(--line);border-radius:3px;padding:0 4px}
#summary{font-size:1.05em}#refresh{color:#8b949e;font-size:.9em}
form#filter{margin:.3em 0 .6em}form#filter input[type=search]{width:24em;padding:3px 6px}
td.when,td.nowrap{white-space:nowrap}
</style>)";

// Progressive enhancement: without it the page is complete, sorts and filters through links
// and the form, and reloads itself (<noscript> refresh). With it, every 5 s each [data-live]
// element is replaced by its namesake from a fresh copy of the same URL (the filter form is
// not live, so what is being typed keeps its focus), and the filter applies as it is typed.
constexpr char kScript[] = R"(<script>
(function () {
  var seq = 0, timer = null;
  function status(text, cls) {
    var el = document.getElementById('refresh');
    el.textContent = text;
    el.className = cls;
  }
  function load(url) {
    var mine = ++seq;
    fetch(url, {cache: 'no-store', credentials: 'same-origin'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    }).then(function (text) {
      if (mine !== seq) return;
      var fresh = new DOMParser().parseFromString(text, 'text/html');
      var parts = fresh.querySelectorAll('[data-live]'), same = true;
      parts.forEach(function (n) { same = same && document.getElementById(n.id) !== null; });
      if (!same) {  /* another layout (the first collection finished): take all of it */
        var main = document.importNode(fresh.querySelector('main'), true);
        document.querySelector('main').replaceWith(main);
      } else {
        parts.forEach(function (n) {
          document.getElementById(n.id).replaceWith(document.importNode(n, true));
        });
      }
      status('live: updated ' + new Date().toLocaleTimeString(), '');
    }).catch(function (e) {
      if (mine === seq) status('refresh failed (' + e.message + '), retrying', 'err');
    });
  }
  function applyFilter(form) {
    var url = '?' + new URLSearchParams(new FormData(form)).toString();
    history.replaceState(null, '', url);
    load(url);
  }
  document.addEventListener('input', function (e) {
    var form = e.target.form;
    if (!form || form.id !== 'filter') return;
    clearTimeout(timer);
    timer = setTimeout(function () { applyFilter(form); }, 300);
  });
  document.addEventListener('submit', function (e) {
    if (e.target.id !== 'filter') return;
    e.preventDefault();
    applyFilter(e.target);
  });
  status('live: refreshes every 5 s', '');
  setInterval(function () { if (!document.hidden) load(location.href); }, 5000);
})();
</script>)";

// application/x-www-form-urlencoded, as browsers send a GET form. A '%' without two hex
// digits stays as it is.
std::string UrlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "35 s ago", "5 min ago", "2 h ago", "3 d ago" (nothing for times after `now`).
std::string Ago(double now, double then) {
  const double s = now - then;
  if (s < 0) return "";
  if (s < 120) return std::to_string(static_cast<long long>(s)) + " s ago";
  if (s < 7200) return std::to_string(static_cast<long long>(s / 60)) + " min ago";
  if (s < 172800) return std::to_string(static_cast<long long>(s / 3600)) + " h ago";
  return std::to_string(static_cast<long long>(s / 86400)) + " d ago";
}

std::string When(double now, double then) {
  std::string ago = Ago(now, then);
  return "<td class=\"when\">" + FormatUtc(then) + (ago.empty() ? "" : "<br>" + ago) + "</td>";
}

double UnixSeconds(policy::TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string Where(Proto proto, const std::string& address, uint16_t port) {
  return std::string(ToString(proto)) + " " + HtmlEscape(address) + ":" + std::to_string(port);
}

// The listener table's columns, the one place a column is defined: its header, its cell,
// its sort order and its filter key all come from here.
struct Column {
  std::string_view key;    // ?sort= and "key:text" in ?q=
  std::string_view title;  // header
  bool numeric;            // sorted as a number; "key:text" must equal the cell
  std::string (*cell)(const Listener&);  // plain text, escaped when written
};

std::string HolderPids(const Listener& l) {
  std::string out;
  for (const auto& p : l.owner.holders) out += (out.empty() ? "" : ", ") + std::to_string(p->pid);
  return out;
}

const Column kColumns[] = {
    {"proto", "Proto", false, [](const Listener& l) { return std::string(ToString(l.proto)); }},
    {"address", "Address", false, [](const Listener& l) { return l.address; }},
    {"port", "Port", true, [](const Listener& l) { return std::to_string(l.port); }},
    {"owner", "Owner", false,
     [](const Listener& l) { return std::string(ToString(l.owner.kind)); }},
    {"pid", "PID", true,
     [](const Listener& l) {
       return l.owner.kind == OwnerKind::kUnknown || l.owner.holders.empty() ? std::string()
                                                  : std::to_string(l.owner.main().pid);
     }},
    {"process", "Process", false, [](const Listener& l) { return ProcessColumn(l.owner); }},
    {"user", "User", false, [](const Listener& l) { return l.owner.main().user; }},
    {"service", "Service", false, [](const Listener& l) { return l.owner.service(); }},
    {"container", "Container", false,
     [](const Listener& l) { return l.owner.main().container; }},
    {"netns", "Netns", false,
     [](const Listener& l) {
       return !l.netns_name.empty() ? l.netns_name
              : l.netns != 0        ? std::to_string(l.netns)
                                    : std::string();
     }},
    {"sockets", "Sockets", true, [](const Listener& l) { return std::to_string(l.sockets); }},
    {"holders", "Holders", false, HolderPids},
};
constexpr size_t kColumnCount = std::size(kColumns);

std::optional<size_t> ColumnIndex(std::string_view key) {
  for (size_t i = 0; i < kColumnCount; ++i) {
    if (kColumns[i].key == key) return i;
  }
  return std::nullopt;
}

struct Row {
  const Listener* listener;
  std::vector<std::string> cells;  // kColumns order
};

// One word of the filter: lower-cased text, in one column or (nullopt) in any.
struct Term {
  std::optional<size_t> column;
  std::string text;
};

std::vector<Term> ParseFilter(std::string_view filter) {
  std::vector<Term> terms;
  std::string lowered = ToLowerAscii(filter);
  std::string_view rest = lowered;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (word.empty()) continue;
    const size_t colon = word.find(':');
    // "::1" or "fe80::1" name no column: such a word is text like any other.
    std::optional<size_t> column =
        colon == std::string_view::npos ? std::nullopt : ColumnIndex(word.substr(0, colon));
    if (column) word = word.substr(colon + 1);
    terms.push_back({column, std::string(word)});
  }
  return terms;
}

bool Matches(const Row& row, const std::vector<Term>& terms) {
  for (const Term& t : terms) {
    auto hit = [&](size_t i) {
      const std::string cell = ToLowerAscii(row.cells[i]);
      if (t.column && kColumns[i].numeric) return cell == t.text;
      return cell.find(t.text) != std::string::npos;
    };
    bool any = false;
    if (t.column) {
      any = hit(*t.column);
    } else {
      for (size_t i = 0; i < kColumnCount && !any; ++i) any = hit(i);
    }
    if (!any) return false;
  }
  return true;
}

// The query string of a link that keeps the filter and sets the sort.
std::string SortHref(const LandingQuery& q, std::string_view key, bool descending) {
  std::string href = "?sort=" + std::string(key);
  if (descending) href += "&order=desc";
  if (!q.filter.empty()) href += "&q=" + UrlEncode(q.filter);
  return HtmlEscape(href);
}

std::string FindingsSection(const Snapshot& snap) {
  const PolicyState& policy = snap.policy;
  std::string h = "<section id=\"findings\" data-live>\n";
  if (policy.active.empty()) {
    return h + "<h2>Findings</h2>\n<p class=\"ok\">No findings: " +
           std::to_string(policy.evaluation.expectations.size()) +
           " expectation(s) hold.</p>\n</section>\n";
  }
  h += "<h2 class=\"err\">Findings (" + std::to_string(policy.active.size()) +
       ")</h2>\n<ul class=\"findings\">\n";
  for (const auto& [key, tracked] : policy.active) {
    const policy::Finding& f = tracked.finding;
    const std::string kind(policy::ToString(f.kind));
    const double raised = UnixSeconds(tracked.raised_at);
    h += "<li class=\"finding\" data-kind=\"" + HtmlEscape(kind) + "\" data-key=\"" +
         HtmlEscape(key) + "\"><div><span class=\"kind\">" + HtmlEscape(kind) + "</span>" +
         (f.rule.empty() ? "" : " rule <b>" + HtmlEscape(f.rule) + "</b>") + " at " +
         Where(f.proto, f.address, f.port) + ", raised " + FormatUtc(raised) + " (" +
         Ago(snap.timestamp, raised) + ")";
    if (tracked.absent_cycles > 0) {
      h += " <span class=\"warn\">gone for " + std::to_string(tracked.absent_cycles) +
           " sample(s), resolving after the hold-down</span>";
    }
    h += "</div>\n<div class=\"explanation\">" + HtmlEscape(f.explanation) + "</div>\n";
    if (!f.remediation.empty()) {
      h += "<div class=\"fix\">Fix: <code>" + HtmlEscape(f.remediation) + "</code></div>\n";
    }
    h += "</li>\n";
  }
  return h + "</ul>\n</section>\n";
}

std::string CollectorSection(const Snapshot& snap) {
  std::string h = "<section id=\"collectors\" data-live>\n";
  for (const auto& c : snap.collectors) {
    if (!c.success) {
      h += "<p class=\"err\">Collector " + HtmlEscape(c.name) + " failed: " +
           HtmlEscape(c.error) + "</p>\n";
    }
  }
  return h + "</section>\n";
}

std::string ExpectationSection(const Snapshot& snap) {
  const PolicyState& policy = snap.policy;
  std::string h = "<section id=\"expectations\" data-live>\n<h2>Expectations</h2>\n";
  if (policy.evaluation.expectations.empty()) {
    return h + "<p>None configured (<code>expect:</code> in the config file; " +
           "<code>portwarden learn</code> writes them from what listens now).</p>\n</section>\n";
  }
  h += "<table><tr><th>Rule</th><th>Status</th><th>Open findings</th></tr>\n";
  for (const auto& e : policy.evaluation.expectations) {
    size_t open = 0;
    for (const auto& [key, tracked] : policy.active) open += tracked.finding.rule == e.name;
    h += "<tr data-rule=\"" + HtmlEscape(e.name) + "\"><td>" + HtmlEscape(e.name) + "</td>" +
         (e.satisfied ? "<td class=\"ok\">holds</td>" : "<td class=\"err\">does not hold</td>") +
         "<td>" + std::to_string(open) + "</td></tr>\n";
  }
  return h + "</table>\n</section>\n";
}

std::string EventSection(const Snapshot& snap) {
  std::string h = "<section id=\"events\" data-live>\n<h2>Latest events</h2>\n";
  const auto& events = snap.policy.events;
  if (!events || events->empty()) return h + "<p>None since the start.</p>\n</section>\n";
  h += "<table><tr><th>Time</th><th>Event</th><th>Kind</th><th>Rule</th><th>Where</th>"
       "<th>Owner</th><th>Detail</th></tr>\n";
  size_t shown = 0;
  for (auto it = events->rbegin(); it != events->rend() && shown < kShownEvents; ++it, ++shown) {
    const Event& e = **it;
    const char* cls = e.type == "finding_raised"     ? " class=\"err\""
                      : e.type == "finding_resolved" ? " class=\"ok\""
                                                     : "";
    h += "<tr data-type=\"" + HtmlEscape(e.type) + "\">" + When(snap.timestamp, e.time) +
         "<td" + cls + ">" + HtmlEscape(e.type) + "</td><td>" + HtmlEscape(e.kind) +
         "</td><td>" + HtmlEscape(e.rule) + "</td><td class=\"nowrap\">" +
         Where(e.proto, e.address, e.port) + "</td><td>" + HtmlEscape(e.owner) + "</td><td>" +
         HtmlEscape(e.detail) + "</td></tr>\n";
  }
  h += "</table>\n";
  if (events->size() > shown) {
    h += "<p>" + std::to_string(events->size() - shown) +
         " older event(s) at <a href=\"api/v1/events\">/api/v1/events</a>.</p>\n";
  }
  return h + "</section>\n";
}

std::string FilterForm(const LandingQuery& q) {
  std::string h =
      "<form id=\"filter\" method=\"get\" action=\"\">"
      "<input type=\"search\" name=\"q\" aria-label=\"Filter listeners\" value=\"" +
      HtmlEscape(q.filter) +
      "\" placeholder=\"filter: nginx, port:443, service:w3svc\"> ";
  if (!q.sort.empty()) {
    h += "<input type=\"hidden\" name=\"sort\" value=\"" + HtmlEscape(q.sort) + "\">";
  }
  if (q.descending) h += "<input type=\"hidden\" name=\"order\" value=\"desc\">";
  return h + "<button type=\"submit\">Filter</button> <a href=\"?\">clear</a></form>\n";
}

std::string ListenerSection(const Snapshot& snap, const LandingQuery& q) {
  std::vector<Row> rows;
  const std::vector<Term> terms = ParseFilter(q.filter);
  for (const Listener& l : snap.listeners->listeners) {
    Row row{&l, {}};
    row.cells.reserve(kColumnCount);
    for (const Column& c : kColumns) row.cells.push_back(c.cell(l));
    if (Matches(row, terms)) rows.push_back(std::move(row));
  }
  const std::optional<size_t> sort = ColumnIndex(q.sort);
  if (sort) {
    const bool numeric = kColumns[*sort].numeric;
    auto key = [&](const Row& r) -> const std::string& { return r.cells[*sort]; };
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      const Row& x = q.descending ? b : a;
      const Row& y = q.descending ? a : b;
      if (numeric && key(x).size() != key(y).size()) return key(x).size() < key(y).size();
      return key(x) < key(y);  // same length: digit strings compare as numbers
    });
  }

  std::string h = "<section id=\"listeners\" data-live>\n<p>Sampled at " +
                  FormatUtc(snap.timestamp) + " from " + HtmlEscape(snap.listener_backend) +
                  ": " + std::to_string(snap.listeners->tcp) + " TCP, " +
                  std::to_string(snap.listeners->udp) + " UDP";
  if (snap.listeners->dropped > 0) {
    h += ", " + std::to_string(snap.listeners->dropped) + " over listeners.max_series not shown";
  }
  h += "; failed binds and new listeners from " +
       (snap.bind_source == "none" ? std::string("no kernel event source (each cycle only)")
                                   : "the " + HtmlEscape(snap.bind_source) + " bind watch") +
       ".";
  if (!terms.empty()) {
    h += " <span id=\"shown\">" + std::to_string(rows.size()) + " of " +
         std::to_string(snap.listeners->listeners.size()) + " match &ldquo;" +
         HtmlEscape(q.filter) + "&rdquo;.</span>";
  }
  h += "</p>\n<table id=\"listener-table\"><tr>";
  for (size_t i = 0; i < kColumnCount; ++i) {
    const bool current = sort == i;
    const bool next_descending = current && !q.descending;
    h += "<th data-key=\"" + std::string(kColumns[i].key) + "\"><a href=\"" +
         SortHref(q, kColumns[i].key, next_descending) + "\">" + std::string(kColumns[i].title) +
         (current ? (q.descending ? " &#9660;" : " &#9650;") : "") + "</a></th>";
  }
  h += "</tr>\n";
  for (const Row& r : rows) {
    h += "<tr>";
    for (const std::string& cell : r.cells) h += "<td>" + HtmlEscape(cell) + "</td>";
    h += "</tr>\n";
  }
  return h + "</table>\n</section>\n";
}

std::string Summary(const Snapshot& snap) {
  const PolicyState& policy = snap.policy;
  size_t holding = 0;
  for (const auto& e : policy.evaluation.expectations) holding += e.satisfied;
  size_t failed = 0;
  for (const auto& c : snap.collectors) failed += !c.success;
  const size_t findings = policy.active.size();
  return "<p id=\"summary\" data-live>" +
         std::string(findings ? "<b class=\"err\">" : "<b class=\"ok\">") +
         std::to_string(findings) + " finding(s)</b> &middot; " + std::to_string(holding) + " of " +
         std::to_string(policy.evaluation.expectations.size()) +
         " expectation(s) hold &middot; " +
         (failed ? "<span class=\"err\">" + std::to_string(failed) + " collector(s) failed</span>"
                 : std::string("collectors ok")) +
         " &middot; sampled " + FormatUtc(snap.timestamp) + "</p>\n";
}

}  // namespace

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

std::string FormatUtc(double unix_seconds) {
  using namespace std::chrono;
  const sys_seconds t{seconds{static_cast<int64_t>(unix_seconds)}};
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss time{t - day};
  char out[32];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u %02d:%02d:%02d UTC",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return out;
}

LandingQuery ParseLandingQuery(std::string_view query_string) {
  LandingQuery q;
  while (!query_string.empty()) {
    const size_t amp = query_string.find('&');
    std::string_view pair = query_string.substr(0, amp);
    query_string =
        amp == std::string_view::npos ? std::string_view() : query_string.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = UrlDecode(pair.substr(0, eq));
    std::string value = UrlDecode(pair.substr(eq + 1));
    if (name == "q") {
      q.filter = std::move(value);
    } else if (name == "sort") {
      q.sort = std::move(value);
    } else if (name == "order") {
      q.descending = value == "desc";
    }
  }
  return q;
}

std::string LandingPage(const Snapshot* snap, const std::string& telemetry_path,
                        const LandingQuery& query) {
  BuildInfo build = GetBuildInfo();
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>portwarden</title>"
      "<link rel=\"icon\" href=\"data:,\">"  // no /favicon.ico request (a 404)
      // Without the script the page still refreshes, as a whole.
      "<noscript><meta http-equiv=\"refresh\" content=\"30\"></noscript>\n" +
      std::string(kStyle) + "</head><body>\n<header><h1>portwarden</h1><span class=\"meta\">" +
      "Port ownership exporter, version " + HtmlEscape(build.version) + " (" +
      HtmlEscape(build.revision) + ")</span><a href=\"" + HtmlEscape(telemetry_path) +
      "\">Metrics</a><a href=\"api/v1/state\">State</a><a href=\"api/v1/events\">Events</a>"
      "<a href=\"-/healthy\">Health</a><a href=\"-/ready\">Readiness</a>"
      "<span id=\"refresh\">reload to refresh</span></header>\n<main>\n";
  if (snap == nullptr) {
    // The script keeps polling: the page fills in once the first collection is done.
    return h + "<section id=\"summary\" data-live><p>The first collection has not finished "
               "yet.</p></section>\n</main>\n" + kScript + "</body></html>\n";
  }
  h += Summary(*snap) + FindingsSection(*snap) + CollectorSection(*snap) +
       ExpectationSection(*snap) + EventSection(*snap) + "<h2>Listeners</h2>\n" +
       FilterForm(query) + ListenerSection(*snap, query) + "<section id=\"httpsys\" data-live>\n" +
       HttpSysLandingSection(snap->httpsys, snap->timestamp) + "</section>\n";
  return h + "</main>\n" + kScript + "</body></html>\n";
}

}  // namespace portwarden
