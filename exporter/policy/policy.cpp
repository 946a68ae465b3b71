#include "exporter/policy/policy.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "exporter/policy/address.h"
#include "exporter/policy/glob.h"

namespace portwarden::policy {
namespace {

/// HTTP.sys reads its IP listen list only when the HTTP service starts.
constexpr std::string_view kHttpSysRestart =
    ", then restart HTTP.sys, which reads the list only when it starts: "
    "`net stop http /y && net start w3svc` (/y also stops IIS, WinRM and the other HTTP.sys "
    "users; start again those you need). Check with `netsh http show iplisten`.";

/// A listener with what the rules compare, computed once per sample.
struct Bound {
  const Listener* listener = nullptr;
  std::string address;  ///< canonical; the collector's text if it does not parse
  std::string identity;
  std::string owner;  ///< DescribeOwner
};

std::vector<Bound> Prepare(const std::vector<Listener>& listeners) {
  std::vector<Bound> bounds;
  bounds.reserve(listeners.size());
  for (const Listener& listener : listeners) {
    const std::optional<std::string> canonical = CanonicalAddress(listener.address);
    bounds.push_back({&listener, canonical.value_or(listener.address),
                      OwnerIdentity(listener.owner), DescribeOwner(listener.owner)});
  }
  // Sorted, the findings do not depend on the collector's order; the PID only breaks ties.
  std::sort(bounds.begin(), bounds.end(), [](const Bound& a, const Bound& b) {
    return std::tie(a.listener->port, a.listener->proto, a.address, a.identity,
                    a.listener->owner.main().pid) < std::tie(b.listener->port, b.listener->proto,
                                                           b.address, b.identity,
                                                           b.listener->owner.main().pid);
  });
  return bounds;
}

bool OnPort(const Bound& bound, Proto proto, uint16_t port) {
  return bound.listener->proto == proto && bound.listener->port == port;
}

bool Covers(const Bound& bind, std::string_view address) {
  if (bind.address == address) return true;
  if (bind.address == "0.0.0.0") return !IsIpv6(address);
  if (bind.address == "::") return IsIpv6(address) || !bind.listener->v6only;
  return false;
}

// Whether a bind of wildcard `address` would cover `bind`'s address.
bool Within(const Bound& bind, std::string_view address) {
  if (address == "0.0.0.0") return !IsIpv6(bind.address);
  return address == "::";
}

bool Overlap(const Bound& a, const Bound& b) {
  return Covers(a, b.address) || Covers(b, a.address);
}

std::string Endpoint(const Bound& bound) {
  return ToString(ListenSpec{bound.listener->proto, bound.address, bound.listener->port});
}

/// "12:03:07 UTC" of a Unix time.
std::string TimeOfDay(double time) {
  const auto seconds = static_cast<long long>(time) % 86400;
  char text[16];
  std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld UTC", seconds / 3600, seconds / 60 % 60,
                seconds % 60);
  return text;
}

/// The policy never asks the OS, so the platform of a process owner is read from its data.
bool LooksLikeWindows(const Owner& owner) {
  const std::string& exe = owner.main().exe;
  return owner.kind == OwnerKind::kHttpSys || owner.kind == OwnerKind::kKernel ||
         (exe.size() > 2 && exe[1] == ':') || exe.rfind("\\\\", 0) == 0 ||
         GlobMatch("*.exe", owner.main().name);
}

std::string FindCommand(Proto proto, uint16_t port, bool windows) {
  const std::string p = std::to_string(port);
  if (windows) {
    return proto == Proto::kTcp ? "Get-NetTCPConnection -LocalPort " + p + " -State Listen"
                                : "Get-NetUDPEndpoint -LocalPort " + p;
  }
  return std::string(proto == Proto::kTcp ? "ss -ltnp" : "ss -lunp") + " 'sport = :" + p + "'";
}

std::string StopCommand(const Owner& owner, bool windows) {
  const std::string& service = owner.service();
  if (windows && !service.empty()) {
    return "Stop-Service -Name " + service + "; Set-Service -Name " + service +
           " -StartupType Disabled";
  }
  // A socket unit would start its service again on the next connection: stop both. A
  // template service (Accept=yes) has no instance to name; its socket is enough.
  std::string units;
  if (owner.socket_unit.ends_with(".socket")) units = owner.socket_unit;
  if (!service.empty() && !service.ends_with("@.service")) {
    units += (units.empty() ? "" : " ") + service;
  }
  if (!windows && !units.empty()) return "systemctl disable --now " + units;
  const std::string pid = std::to_string(owner.main().pid);
  return windows ? "Stop-Process -Id " + pid : "kill " + pid;
}

template <typename Strings>
std::string Join(const Strings& parts, std::string_view separator) {
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) text += separator;
    text += part;
  }
  return text;
}

/// Builds the findings of one Evaluate call.
class Evaluator {
 public:
  Evaluator(const std::vector<Listener>& current, const std::vector<Expectation>& expectations)
      : expectations_(expectations), bounds_(Prepare(current)) {}

  void CheckExpectations() {
    for (const Expectation& expectation : expectations_) {
      if (!expectation.owner) continue;
      for (const ListenSpec& spec : expectation.listen) CheckEntry(expectation, spec);
    }
  }

  void CheckExclusivePorts() {
    std::map<std::pair<Proto, uint16_t>, const Expectation*> exclusive;
    for (const Expectation& expectation : expectations_) {
      if (!expectation.exclusive) continue;
      for (const ListenSpec& spec : expectation.listen) {
        exclusive.emplace(std::pair{spec.proto, spec.port}, &expectation);
      }
    }
    for (const Bound& bound : bounds_) {
      const Listener& l = *bound.listener;
      const auto it = exclusive.find({l.proto, l.port});
      if (it == exclusive.end() || !NetnsMatches(it->second->netns, l) || Allowed(bound)) continue;
      Finding finding =
          NewFinding(FindingKind::kUnexpected, it->second->name, l.proto, bound.address, l.port);
      SetOwner(finding, bound);
      finding.expected = AllowedOn(l.proto, l.port);
      finding.key = MakeKey(finding, {});
      finding.explanation = bound.owner + " listens on " + Endpoint(bound) + ", a port that " +
                            "expectation \"" + it->second->name +
                            "\" declares exclusive, and no expectation allows it there " +
                            "(allowed: " + finding.expected + ").";
      finding.remediation = HolderRemediation(bound, "", Endpoint(bound)) +
                            " Or, if it belongs there, add an expectation that allows it.";
      findings_.push_back(std::move(finding));
    }
  }

  void CheckConflicts() {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
      const Bound& a = bounds_[i];
      for (std::size_t j = i + 1; j < bounds_.size(); ++j) {
        const Bound& b = bounds_[j];
        if (!OnPort(b, a.listener->proto, a.listener->port)) break;
        // Binds in two network namespaces never meet: each has its own ports.
        if (a.identity == b.identity || a.listener->netns != b.listener->netns || !Overlap(a, b)) {
          continue;
        }
        Finding finding =
            NewFinding(FindingKind::kConflict, "", a.listener->proto, a.address, a.listener->port);
        SetOwner(finding, a);
        finding.other = b.owner + " on " + Endpoint(b);
        finding.key = MakeKey(finding, {b.identity, b.address});
        finding.explanation = a.owner + " on " + Endpoint(a) + " and " + finding.other +
                              " hold overlapping binds, so which of them gets a connection " +
                              "depends on the OS and on the order they bound in.";
        // Moving HTTP.sys or unpublishing a NAT forward is the usual way out (the other is
        // the service that was there first) and has a precise recipe, so prefer it.
        const OwnerKind a_kind = a.listener->owner.kind;
        const Bound& move = a_kind == OwnerKind::kHttpSys || a_kind == OwnerKind::kNat ? a : b;
        finding.remediation = "Decide which of the two should hold the port. To move " +
                              move.owner +
                              " off it: " + HolderRemediation(move, "", Endpoint(move));
        findings_.push_back(std::move(finding));
      }
    }
  }

  void CheckChanges(const std::vector<Listener>& previous_listeners) {
    const std::vector<Bound> previous = Prepare(previous_listeners);
    const auto before = Group(previous);
    for (const auto& [place, now] : Group(bounds_)) {
      const auto it = before.find(place);
      if (it == before.end() || it->second.identities == now.identities) continue;
      const auto& [port, proto, address, netns] = place;
      Finding finding = NewFinding(FindingKind::kChanged, "", proto, address, port);
      finding.owner = Join(now.owners, ", ");
      finding.owner_identity = Join(now.identities, ",");
      finding.owner_address = address;
      finding.other = Join(it->second.owners, ", ");
      finding.key = MakeKey(finding, {Join(it->second.identities, ",")});
      const std::string where = ToString(ListenSpec{proto, address, port});
      finding.explanation =
          "The owner of " + where + " changed from " + finding.other + " to " + finding.owner + ".";
      finding.remediation = "If this was not planned, find what started " + finding.owner +
                            " (an update, a new role, a reboot) and give " + where + " back to " +
                            finding.other + ".";
      findings_.push_back(std::move(finding));
    }
  }

  Evaluation Finish() && {
    // Equal keys have equal port, proto, address and kind, so they end up adjacent; the
    // stable sort keeps the first of them (lowest PID) whatever the input order was.
    std::stable_sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.port, a.proto, a.address, a.kind, a.key) <
             std::tie(b.port, b.proto, b.address, b.kind, b.key);
    });
    findings_.erase(std::unique(findings_.begin(), findings_.end(),
                                [](const Finding& a, const Finding& b) { return a.key == b.key; }),
                    findings_.end());
    Evaluation evaluation;
    for (const Expectation& expectation : expectations_) {
      const bool satisfied =
          std::none_of(findings_.begin(), findings_.end(),
                       [&](const Finding& finding) { return finding.rule == expectation.name; });
      evaluation.expectations.push_back({expectation.name, satisfied});
    }
    for (const Finding& finding : findings_) {
      ++evaluation.counts[static_cast<std::size_t>(finding.kind)];
    }
    evaluation.findings = std::move(findings_);
    return evaluation;
  }

  /// After CheckExpectations: bind_failed findings, and the attempts added to the findings of
  /// the expectations their callers match.
  void CheckBindFailures(const std::vector<BindEvent>& failures) {
    for (const BindEvent& e : failures) {
      const Owner caller{OwnerKind::kProcess, {std::make_shared<const Process>(e.caller)}, {}, {}};
      const std::string who = DescribeOwner(caller);
      const std::string attempt =
          who + " tried at " + TimeOfDay(e.time) + " and got " + ErrnoName(e.error);
      const Expectation* matched = nullptr;
      bool listed = false;
      for (const Expectation& expectation : expectations_) {
        const bool owner_matches = expectation.owner && expectation.owner->Matches(caller);
        for (const ListenSpec& spec : expectation.listen) {
          if (spec.proto != e.proto || spec.port != e.port) continue;
          listed = true;
          if (owner_matches && !matched) matched = &expectation;
        }
      }
      if (!listed) continue;
      if (matched) {
        for (Finding& f : findings_) {
          if ((f.kind == FindingKind::kWrongOwner || f.kind == FindingKind::kBlocked) &&
              f.rule == matched->name && f.proto == e.proto && f.port == e.port) {
            f.explanation += " " + attempt + ".";
          }
        }
      }
      const std::string address = CanonicalAddress(e.address).value_or(e.address);
      const std::string where = ToString(ListenSpec{e.proto, address, e.port});
      std::vector<const Bound*> holders;
      for (const Bound& bound : bounds_) {
        if (OnPort(bound, e.proto, e.port) && (Covers(bound, address) || Within(bound, address))) {
          holders.push_back(&bound);
        }
      }
      Finding finding = NewFinding(FindingKind::kBindFailed, matched ? matched->name : "",
                                   e.proto, address, e.port);
      finding.other = who;
      // The caller and the address it asked for; not the holder, which may come and go.
      finding.key = std::string(ToString(finding.kind)) + "|" + finding.rule + "|" +
                    std::string(ToString(e.proto)) + "|" + address + "|" +
                    std::to_string(e.port) + "|" + OwnerIdentity(caller);
      const std::string call = std::string(CallName(e.kind)) + "() on " + where;
      if (holders.empty()) {
        finding.explanation = attempt + " from " + call + "; nothing holds it now.";
        finding.remediation =
            ErrnoName(e.error) == "EACCES"
                ? "Ports below 1024 need root or CAP_NET_BIND_SERVICE (e.g. "
                  "AmbientCapabilities=CAP_NET_BIND_SERVICE in its systemd unit), or configure "
                  "a port of 1024 or more."
                : "Whoever held it has gone: restart " + who + " so that it binds again.";
      } else {
        SetOwner(finding, *holders.front());
        std::vector<std::string> names;
        for (const Bound* h : holders) names.push_back(h->owner + " on " + Endpoint(*h));
        finding.explanation = attempt + " from " + call + "; held by " + Join(names, ", ") + ".";
        finding.remediation = HolderRemediation(*holders.front(), address, where);
      }
      findings_.push_back(std::move(finding));
    }
  }

 private:
  struct Holders {
    std::set<std::string> identities;
    std::vector<std::string> owners;  ///< one description per identity
  };
  using Place = std::tuple<uint16_t, Proto, std::string, uint64_t>;  // ..., network namespace

  static std::map<Place, Holders> Group(const std::vector<Bound>& bounds) {
    std::map<Place, Holders> groups;
    for (const Bound& bound : bounds) {
      Holders& holders = groups[{bound.listener->port, bound.listener->proto, bound.address,
                                 bound.listener->netns}];
      if (holders.identities.insert(bound.identity).second) holders.owners.push_back(bound.owner);
    }
    return groups;
  }

  static Finding NewFinding(FindingKind kind, std::string rule, Proto proto, std::string address,
                            uint16_t port) {
    Finding finding;
    finding.kind = kind;
    finding.rule = std::move(rule);
    finding.proto = proto;
    finding.address = std::move(address);
    finding.port = port;
    return finding;
  }

  static void SetOwner(Finding& finding, const Bound& bound) {
    finding.owner = bound.owner;
    finding.owner_identity = bound.identity;
    finding.owner_address = bound.address;
  }

  static std::string MakeKey(const Finding& finding,
                             std::initializer_list<std::string_view> more_parties) {
    std::string key = std::string(ToString(finding.kind)) + "|" + finding.rule + "|" +
                      std::string(ToString(finding.proto)) + "|" + finding.address + "|" +
                      std::to_string(finding.port) + "|" + finding.owner_address + "|" +
                      finding.owner_identity;
    for (std::string_view party : more_parties) key += "|" + std::string(party);
    return key;
  }

  void CheckEntry(const Expectation& expectation, const ListenSpec& spec) {
    std::vector<const Bound*> on_port;
    for (const Bound& bound : bounds_) {
      if (OnPort(bound, spec.proto, spec.port) && NetnsMatches(expectation.netns, *bound.listener)) {
        on_port.push_back(&bound);
      }
    }
    const auto at_or_covering = [&spec](const Bound* bound) {
      return spec.AnyAddress() || Covers(*bound, spec.address);
    };
    const bool served = std::any_of(on_port.begin(), on_port.end(), [&](const Bound* bound) {
      return expectation.owner->Matches(bound->listener->owner) && at_or_covering(bound);
    });
    if (served) return;

    const std::string address = spec.AnyAddress() ? "*" : spec.address;
    const std::string wanted = ToString(*expectation.owner);
    const std::string where = ToString(spec);
    std::vector<const Bound*> holders;
    for (const Bound* bound : on_port) {
      if (spec.AnyAddress() || bound->address == spec.address) holders.push_back(bound);
    }
    FindingKind kind = FindingKind::kWrongOwner;
    if (holders.empty()) {
      kind = FindingKind::kBlocked;
      std::copy_if(on_port.begin(), on_port.end(), std::back_inserter(holders), at_or_covering);
    }
    if (holders.empty()) {
      Finding finding =
          NewFinding(FindingKind::kMissing, expectation.name, spec.proto, address, spec.port);
      finding.expected = wanted;
      finding.key = MakeKey(finding, {});
      finding.explanation = "Expectation \"" + expectation.name + "\" wants " + wanted + " on " +
                            where + ", but nothing listens there.";
      finding.remediation = "Start the expected owner (" + wanted +
                            ") and check its log for bind errors on " + where + ".";
      findings_.push_back(std::move(finding));
      return;
    }
    for (const Bound* holder : holders) {
      Finding finding = NewFinding(kind, expectation.name, spec.proto, address, spec.port);
      SetOwner(finding, *holder);
      finding.expected = wanted;
      finding.key = MakeKey(finding, {});
      if (kind == FindingKind::kWrongOwner) {
        finding.explanation = where + " is held by " + holder->owner +
                              ", not by the owner expectation \"" + expectation.name +
                              "\" wants (" + wanted + ").";
      } else {
        finding.explanation = "Expectation \"" + expectation.name + "\" wants " + wanted + " on " +
                              where + ", but " + holder->owner + " holds " + Endpoint(*holder) +
                              ", which covers that address, so the expected owner cannot bind it.";
      }
      finding.remediation = HolderRemediation(*holder, spec.address, where);
      findings_.push_back(std::move(finding));
    }
  }

  /// Whether an expectation allows `bound` on its exclusive port: matching owner and the exact
  /// address listed (or any address).
  bool Allowed(const Bound& bound) const {
    const Listener& l = *bound.listener;
    for (const Expectation& expectation : expectations_) {
      if (!expectation.owner || !expectation.owner->Matches(l.owner) ||
          !NetnsMatches(expectation.netns, l)) {
        continue;
      }
      for (const ListenSpec& spec : expectation.listen) {
        if (spec.proto == l.proto && spec.port == l.port &&
            (spec.AnyAddress() || spec.address == bound.address)) {
          return true;
        }
      }
    }
    return false;
  }

  /// "process=nginx on 10.0.0.5:80/tcp; kind=http.sys on 172.16.1.1:80/tcp", or "nothing".
  std::string AllowedOn(Proto proto, uint16_t port) const {
    std::vector<std::string> allowed;
    for (const Expectation& expectation : expectations_) {
      if (!expectation.owner) continue;
      for (const ListenSpec& spec : expectation.listen) {
        if (spec.proto == proto && spec.port == port) {
          allowed.push_back(ToString(*expectation.owner) + " on " + ToString(spec));
        }
      }
    }
    return allowed.empty() ? "nothing" : Join(allowed, "; ");
  }

  /// Addresses that expectations give to HTTP.sys, except `freed`: what its IP listen list
  /// should hold.
  std::vector<std::string> HttpSysAddresses(std::string_view freed) const {
    std::vector<std::string> addresses;
    for (const Expectation& expectation : expectations_) {
      if (!expectation.owner || expectation.owner->kind != OwnerKind::kHttpSys) continue;
      for (const ListenSpec& spec : expectation.listen) {
        if (spec.AnyAddress() || spec.address == freed ||
            std::find(addresses.begin(), addresses.end(), spec.address) != addresses.end()) {
          continue;
        }
        addresses.push_back(spec.address);
      }
    }
    return addresses;
  }

  /// How to get `holder` off `where` (whose address is `freed`, empty if none in particular).
  std::string HolderRemediation(const Bound& holder, std::string_view freed,
                                std::string_view where) const {
    const Listener& l = *holder.listener;
    switch (l.owner.kind) {
      case OwnerKind::kHttpSys: {
        if (!IsWildcard(holder.address)) {
          return "HTTP.sys binds " + holder.address + " because its IP listen list names it: " +
                 "`netsh http delete iplisten ipaddress=" + holder.address + "`" +
                 std::string(kHttpSysRestart);
        }
        std::vector<std::string> commands;
        for (const std::string& address : HttpSysAddresses(freed)) {
          commands.push_back("netsh http add iplisten ipaddress=" + address);
        }
        if (commands.empty()) {
          commands.push_back("netsh http add iplisten ipaddress=<address HTTP.sys should keep>");
        }
        return "HTTP.sys binds every address because its IP listen list is empty (or holds " +
               holder.address + "). Restrict it to the addresses it should keep: `" +
               Join(commands, " && ") + "`" + std::string(kHttpSysRestart);
      }
      case OwnerKind::kKernel:
        return "The Windows kernel (PID 4) holds " + Endpoint(holder) +
               " for a kernel-mode driver: check `netsh http show servicestate` in case HTTP.sys "
               "is behind it, otherwise find the driver or service that owns the port.";
      case OwnerKind::kNat:
        return "A destination NAT rule forwards " + Endpoint(holder) + " to " +
               l.owner.forwards_to + " (a container's published port, or a hand-written "
               "rule): find it with `nft list ruleset | grep -n 'dport " + std::to_string(l.port) +
               "'`, then unpublish the port or delete the rule so that it leaves " +
               std::string(where) + ".";
      case OwnerKind::kUnknown:
        return "Its owner could not be read (portwarden needs root or Administrator rights to "
               "see other users' processes); find it with `" +
               FindCommand(l.proto, l.port, false) + "` on Linux or `" +
               FindCommand(l.proto, l.port, true) + "` on Windows.";
      case OwnerKind::kProcess:
        break;
    }
    const bool windows = LooksLikeWindows(l.owner);
    return "Find it with `" + FindCommand(l.proto, l.port, windows) + "`, then stop it (`" +
           StopCommand(l.owner, windows) + "`) or change its configuration so it leaves " +
           std::string(where) + ".";
  }

  const std::vector<Expectation>& expectations_;
  const std::vector<Bound> bounds_;
  std::vector<Finding> findings_;
};

}  // namespace

std::string_view ToString(FindingKind kind) {
  switch (kind) {
    case FindingKind::kMissing:
      return "missing";
    case FindingKind::kWrongOwner:
      return "wrong_owner";
    case FindingKind::kBlocked:
      return "blocked";
    case FindingKind::kConflict:
      return "conflict";
    case FindingKind::kUnexpected:
      return "unexpected";
    case FindingKind::kChanged:
      return "changed";
    case FindingKind::kBindFailed:
      return "bind_failed";
  }
  return "unknown";
}

std::string OwnerIdentity(const Owner& owner) {
  std::string identity = std::string(ToString(owner.kind)) + ":" + owner.main().name;
  if (!owner.service().empty()) identity += ":" + owner.service();
  return identity;
}

std::string DescribeOwner(const Owner& owner) {
  const Process& main = owner.main();
  const std::string pid = "pid " + std::to_string(main.pid);
  const std::string name = main.name.empty() ? "System" : main.name;
  switch (owner.kind) {
    case OwnerKind::kHttpSys:
      return "http.sys (" + name + ", " + pid + ")";
    case OwnerKind::kNat: {
      std::string target = main.name;
      if (!main.container.empty()) target += (target.empty() ? "" : ", ") + ("container " + main.container);
      return "DNAT to " + owner.forwards_to + (target.empty() ? "" : " (" + target + ")");
    }
    case OwnerKind::kKernel:
      return "kernel (" + name + ", " + pid + ")";
    case OwnerKind::kUnknown:
      if (main.name.empty()) return main.pid == 0 ? "unknown" : "unknown (" + pid + ")";
      break;
    case OwnerKind::kProcess:
      break;
  }
  std::string details = pid;
  if (!owner.service().empty()) details += ", service " + owner.service();
  return main.name.empty() ? details : main.name + " (" + details + ")";
}

Evaluation Evaluate(const std::vector<Listener>& current, const std::vector<Listener>* previous,
                    const std::vector<Expectation>& expectations,
                    const std::vector<BindEvent>& bind_failures) {
  Evaluator evaluator(current, expectations);
  evaluator.CheckExpectations();
  evaluator.CheckExclusivePorts();
  evaluator.CheckConflicts();
  if (previous != nullptr) evaluator.CheckChanges(*previous);
  evaluator.CheckBindFailures(bind_failures);
  return std::move(evaluator).Finish();
}

}  // namespace portwarden::policy
