#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/bindwatch/bind_event.h"
#include "collectors/listeners/listener.h"
#include "exporter/policy/expectations.h"

namespace portwarden::policy {

/// What a finding says. The first three are about one listen entry of an expectation that is
/// not served; each unserved entry gets wrong_owner, else blocked, else missing.
enum class FindingKind {
  kMissing,     ///< nothing listens at or covers the expected address:port
  kWrongOwner,  ///< someone other than the expected owner holds the expected address:port
  kBlocked,     ///< another owner's wider bind (0.0.0.0, dual-stack ::) covers the address,
                ///< so the expected owner cannot bind it
  kConflict,    ///< two owners hold overlapping binds on one port (any expectation or none)
  kUnexpected,  ///< a listener on an exclusive port that no expectation allows
  kChanged,     ///< the owner of an address:port differs from the previous sample
  kBindFailed,  ///< a process's bind() or listen() failed recently (EADDRINUSE, EACCES)
};

inline constexpr std::array<FindingKind, 7> kFindingKinds = {
    FindingKind::kMissing,    FindingKind::kWrongOwner, FindingKind::kBlocked,
    FindingKind::kConflict,   FindingKind::kUnexpected, FindingKind::kChanged,
    FindingKind::kBindFailed};

/// "missing", "wrong_owner", "blocked", "conflict", "unexpected", "changed", "bind_failed".
std::string_view ToString(FindingKind kind);

/// One problem found in one sample.
struct Finding {
  FindingKind kind = FindingKind::kMissing;
  /// expectation name; empty for conflict and changed, and for bind_failed unless the caller
  /// matches an expectation listing that proto/port
  std::string rule;
  Proto proto = Proto::kTcp;
  std::string address;  ///< canonical address the finding is about; "*" for "any address"
  uint16_t port = 0;
  /// The party that holds the bind: the wrong owner, the blocker, the unexpected listener,
  /// the first of two conflicting owners, the new owner(s), the holder of the address a bind
  /// failed on; empty for missing (and bind_failed when nobody holds it, e.g. EACCES).
  /// Short text such as "nginx (pid 812)" or "http.sys (System, pid 4)" (see DescribeOwner).
  std::string owner;
  std::string owner_identity;  ///< OwnerIdentity of `owner`, PID-free (for labels)
  std::string owner_address;   ///< what `owner` has bound; may be a wildcard covering `address`
  /// The expected owner, e.g. "process=nginx" (missing, wrong_owner, blocked), or what the
  /// exclusive port allows (unexpected).
  std::string expected;
  /// The second conflicting owner and its bind (conflict), the previous owner(s) (changed),
  /// or the caller whose bind failed (bind_failed).
  std::string other;
  /// Stable identity: the same problem has the same key in every sample. Built from kind,
  /// rule, proto, address, port and owner identities, never from PIDs.
  std::string key;
  std::string explanation;  ///< one sentence for humans
  std::string remediation;  ///< what to run or change
};

/// Whether an expectation holds: true if no finding carries its name as `rule`.
struct ExpectationStatus {
  std::string name;
  bool satisfied = true;
};

/// The result of one Evaluate call.
struct Evaluation {
  std::vector<Finding> findings;  ///< ordered by port, proto, address, kind, key; keys unique
  std::vector<ExpectationStatus> expectations;     ///< in config order
  std::array<int, kFindingKinds.size()> counts{};  ///< indexed by FindingKind

  int Count(FindingKind kind) const { return counts[static_cast<std::size_t>(kind)]; }
};

/// Owner identity used to compare owners across listeners and samples: kind, main process
/// name and service, e.g. "process:nginx:nginx.service". The PID is left out on purpose: a
/// restarted nginx is the same owner, so no "changed" event fires and findings keep their
/// keys. The price is that two unrelated processes with the same name and service count as
/// one owner and never conflict with each other.
std::string OwnerIdentity(const Owner& owner);

/// "nginx (pid 812)", "svchost.exe (pid 1200, service W3SVC)", "http.sys (System, pid 4)",
/// "kernel (System, pid 4)", "unknown" or "unknown (pid 812)".
std::string DescribeOwner(const Owner& owner);

/// Compares one sample of listeners with the expectations (and with the previous sample, if
/// given, for "changed"). Pure: no OS access, no clock, no logging, keeps nothing; safe to
/// call from any thread. The result does not depend on the order of the listeners.
///
/// Address rules. A bind covers an address when it is that address, or 0.0.0.0 and the
/// address is IPv4, or :: and the address is IPv6 or (when not v6only) IPv4. Two binds on the
/// same proto/port overlap when either covers the other's address.
///  - An expected entry is served by a listener of a matching owner at or covering the
///    address (any listener on the port for "*"). If not served: wrong_owner for each other
///    owner bound at exactly that address (any address for "*"); else blocked for each owner
///    whose bind covers it; else missing.
///  - On an exclusive proto/port a listener is allowed only by an expectation whose owner
///    matches and which lists that exact address (or "*"), so a wildcard bind where a specific
///    address is expected is unexpected even though it serves the address. The finding's
///    rule is the first exclusive entry listing that proto/port.
///  - conflict: each pair of listeners of different owners whose binds overlap.
///  - changed: an address:port held in both samples whose set of owners differs; appearing
///    and disappearing listeners are not changes.
///  - bind_failed: one per failed call in `bind_failures` (the caller's latest on that
///    address) on a proto/port that an expectation lists, naming the listeners whose binds
///    overlap the address asked for. Failures on other ports are only counted (metrics,
///    events): a busy host fails binds all day (port probes, retries), and the findings are
///    about the ports the config names. A caller
///    that matches an expectation listing the proto/port also adds "nginx (pid 812) tried
///    at 12:03:07 UTC and got EADDRINUSE" to that expectation's wrong_owner and blocked
///    findings there.
Evaluation Evaluate(const std::vector<Listener>& current, const std::vector<Listener>* previous,
                    const std::vector<Expectation>& expectations,
                    const std::vector<BindEvent>& bind_failures = {});

}  // namespace portwarden::policy
