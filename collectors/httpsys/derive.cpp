#include "collectors/httpsys/derive.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "collectors/common/ip_address.h"
#include "collectors/listeners/address.h"

namespace portwarden::httpsys {
namespace {

std::optional<std::string> Canonical(std::string_view text) {
  auto ip = ParseIpAddress(text);
  if (!ip) return std::nullopt;
  return ip->v6 ? FormatIpv6(ip->bytes.data()) : FormatIpv4(ip->bytes.data());
}

bool IsWildcard(std::string_view canonical) { return canonical == "0.0.0.0" || canonical == "::"; }

bool IsIpv6(std::string_view canonical) { return canonical.find(':') != std::string_view::npos; }

std::set<std::string> AddressSet(const std::vector<IpListenEntry>& list) {
  std::set<std::string> out;
  for (const auto& e : list) out.insert(Canonical(e.address).value_or(e.address));
  return out;
}

std::string Describe(const std::set<std::string>& list) {
  if (list.empty()) return "empty";
  std::string out;
  for (const auto& a : list) out += (out.empty() ? "" : ", ") + a;
  return out;
}

std::string BaseName(std::string_view path) {
  size_t slash = path.find_last_of("\\/");
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

template <typename Strings>
std::string Join(const Strings& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

/// The processes behind a set of queues, each PID once: queue processes first, then
/// controllers. Adds their services to `all_services`.
std::vector<Process> QueueHolders(const std::vector<const RequestQueue*>& queues,
                                  const std::map<uint32_t, ProcessIdentity>& processes,
                                  std::set<std::string>& all_services) {
  std::vector<Process> out;
  std::set<uint32_t> seen;
  auto add = [&](uint32_t pid, const QueueProcess* netsh) {
    if (!seen.insert(pid).second) return;
    out.push_back(DescribeQueueProcess(pid, netsh, processes));
    size_t start = 0;
    const std::string& joined = out.back().service;
    while (start < joined.size()) {
      size_t comma = joined.find(',', start);
      all_services.insert(joined.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  };
  for (const RequestQueue* q : queues) {
    for (const QueueProcess& p : q->processes) add(p.pid, &p);
  }
  for (const RequestQueue* q : queues) {
    if (q->controller_pid) add(*q->controller_pid, nullptr);
  }
  return out;
}

bool Covers(std::string_view bind, std::string_view claimed) {
  if (claimed.empty() || bind == claimed) return true;
  if (bind == "0.0.0.0") return !IsIpv6(claimed);
  if (bind == "::") return IsIpv6(claimed);
  return false;
}

}  // namespace

Process DescribeQueueProcess(uint32_t pid, const QueueProcess* netsh,
                             const std::map<uint32_t, ProcessIdentity>& processes) {
  auto known = processes.find(pid);
  Process p;
  p.pid = pid;
  if (netsh != nullptr && !netsh->image.empty()) {
    p.exe = netsh->image;
    p.name = BaseName(netsh->image);
  } else if (known != processes.end()) {
    p.name = known->second.name;
  }
  std::set<std::string> services;
  if (netsh != nullptr && !netsh->services.empty()) {
    services.insert(netsh->services.begin(), netsh->services.end());
  } else if (known != processes.end()) {
    services.insert(known->second.services.begin(), known->second.services.end());
  }
  p.service = Join(services);
  return p;
}

size_t AttributeHttpSysListeners(std::vector<Listener>& listeners,
                                 const std::vector<RequestQueue>& queues,
                                 const std::map<uint32_t, ProcessIdentity>& processes) {
  std::vector<std::pair<const RequestQueue*, HttpSysUrl>> urls;
  for (const RequestQueue& q : queues) {
    for (const std::string& text : q.urls) {
      if (auto url = ParseHttpSysUrl(text)) urls.emplace_back(&q, std::move(*url));
    }
  }
  size_t attributed = 0;
  for (Listener& l : listeners) {
    if (l.proto != Proto::kTcp || l.owner.kind != OwnerKind::kKernel) continue;
    std::vector<const RequestQueue*> matches;
    for (const auto& [queue, url] : urls) {
      if (UrlCoversEndpoint(url, l.address, l.port) &&
          std::find(matches.begin(), matches.end(), queue) == matches.end()) {
        matches.push_back(queue);
      }
    }
    if (matches.empty()) continue;
    std::set<std::string> services;
    std::vector<Process> behind = QueueHolders(matches, processes, services);
    l.owner.kind = OwnerKind::kHttpSys;
    Process main = l.owner.main();
    if (main.name.empty()) main.name = "System";
    main.service = Join(services);
    l.owner.holders.assign(1, std::make_shared<const Process>(std::move(main)));
    for (Process& p : behind) {
      if (p.pid != l.owner.main().pid) {
        l.owner.holders.push_back(std::make_shared<const Process>(std::move(p)));
      }
    }
    ++attributed;
  }
  return attributed;
}

const std::vector<IpListenEntry>* ConfiguredListenList(
    const std::optional<std::vector<IpListenEntry>>& api,
    const std::optional<std::vector<IpListenEntry>>& registry) {
  if (registry) return &*registry;
  if (api) return &*api;
  return nullptr;
}

std::optional<PendingRestart> CheckPendingRestart(
    const std::optional<std::vector<IpListenEntry>>& api,
    const std::optional<std::vector<IpListenEntry>>& registry,
    const std::vector<Listener>* listeners) {
  const std::vector<IpListenEntry>* configured = ConfiguredListenList(api, registry);
  const bool compare_sources = api && registry;
  const bool compare_binds = configured != nullptr && listeners != nullptr;
  if (!compare_sources && !compare_binds) return std::nullopt;

  PendingRestart out;
  if (compare_sources) {
    std::set<std::string> in_registry = AddressSet(*registry);
    std::set<std::string> in_api = AddressSet(*api);
    if (in_registry != in_api) {
      out.reasons.push_back("The registry ListenOnlyList (" + Describe(in_registry) +
                            ") differs from the list the HTTP service has loaded (" +
                            Describe(in_api) + ").");
    }
  }
  if (compare_binds) {
    const std::set<std::string> want = AddressSet(*configured);
    std::map<std::string, std::set<uint16_t>> stray;  // address -> ports
    for (const Listener& l : *listeners) {
      if (l.owner.kind != OwnerKind::kHttpSys) continue;
      std::string address = Canonical(l.address).value_or(l.address);
      bool allowed = want.empty() ? IsWildcard(address) : want.count(address) > 0;
      if (!allowed) stray[address].insert(l.port);
    }
    for (const auto& [address, ports] : stray) {
      std::string port_list;
      for (uint16_t p : ports) port_list += (port_list.empty() ? "" : ", ") + std::to_string(p);
      out.reasons.push_back("HTTP.sys holds " + address + " (port " + port_list +
                            ") but the configured listen "
                            "list " +
                            (want.empty()
                                 ? "is empty, so at its next start it binds only 0.0.0.0 and ::"
                                 : "(" + Describe(want) + ") does not name it") +
                            ".");
    }
  }
  out.pending = !out.reasons.empty();
  return out;
}

LatentConflicts FindLatentConflicts(const std::vector<IpListenEntry>& listen_list,
                                    const std::vector<std::string>& registered_urls,
                                    const std::vector<UrlReservation>& reservations,
                                    const std::vector<AddressClaim>& claims) {
  std::map<uint16_t, std::vector<std::string>> why;  // port -> URLs that make HTTP.sys bind it
  auto note = [&why](const std::string& text) {
    auto url = ParseHttpSysUrl(text);
    if (!url) return;
    auto& urls = why[url->port];
    if (std::find(urls.begin(), urls.end(), text) == urls.end()) urls.push_back(text);
  };
  for (const std::string& url : registered_urls) note(url);
  for (const UrlReservation& r : reservations) note(r.url);

  std::vector<std::string> binds;
  if (listen_list.empty()) {
    binds = {"0.0.0.0", "::"};
  } else {
    for (const auto& e : listen_list) {
      auto address = Canonical(e.address);
      if (address && std::find(binds.begin(), binds.end(), *address) == binds.end()) {
        binds.push_back(*address);
      }
    }
  }

  LatentConflicts out;
  std::set<uint16_t> conflict_ports;
  std::set<std::tuple<std::string, std::string, uint16_t>> seen;
  for (const AddressClaim& claim : claims) {
    auto it = why.find(claim.port);
    if (it == why.end()) continue;
    auto bind = std::find_if(binds.begin(), binds.end(),
                             [&](const std::string& b) { return Covers(b, claim.address); });
    if (bind == binds.end()) continue;
    std::string address = claim.address.empty() ? "*" : claim.address;
    if (!seen.insert({claim.rule, address, claim.port}).second) continue;
    out.conflicts.push_back({claim.rule, address, claim.port, *bind, it->second});
    conflict_ports.insert(claim.port);
  }
  std::sort(out.conflicts.begin(), out.conflicts.end(),
            [](const LatentConflict& a, const LatentConflict& b) {
              return std::tie(a.port, a.address, a.rule) < std::tie(b.port, b.address, b.rule);
            });
  std::set<std::string> unexpected;
  for (const UrlReservation& r : reservations) {
    auto url = ParseHttpSysUrl(r.url);
    if (url && conflict_ports.count(url->port)) unexpected.insert(r.url);
  }
  out.unexpected_reservations.assign(unexpected.begin(), unexpected.end());
  return out;
}

std::vector<UrlAclMismatch> CompareReservations(const std::vector<UrlReservation>& api,
                                                const std::vector<UrlReservation>& registry) {
  using Rights = std::set<std::tuple<std::string, bool, bool>>;
  auto index = [](const std::vector<UrlReservation>& list) {
    std::map<std::string, std::pair<std::string, Rights>> out;  // lower-case URL -> URL, rights
    for (const UrlReservation& r : list) {
      std::string key = r.url;
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto& [url, rights] = out[key];
      url = r.url;
      for (const UrlAclPrincipal& p : r.principals) {
        rights.insert({p.sid.empty() ? p.trustee : p.sid, p.listen, p.delegate});
      }
    }
    return out;
  };
  const auto in_api = index(api);
  const auto in_registry = index(registry);
  std::vector<UrlAclMismatch> out;
  for (const auto& [key, entry] : in_api) {
    auto it = in_registry.find(key);
    if (it == in_registry.end()) {
      out.push_back({entry.first, "api_only"});
    } else if (it->second.second != entry.second) {
      out.push_back({entry.first, "rights"});
    }
  }
  for (const auto& [key, entry] : in_registry) {
    if (!in_api.count(key)) out.push_back({entry.first, "registry_only"});
  }
  std::sort(out.begin(), out.end(),
            [](const UrlAclMismatch& a, const UrlAclMismatch& b) { return a.url < b.url; });
  return out;
}

}  // namespace portwarden::httpsys
