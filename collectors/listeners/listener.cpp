#include "collectors/listeners/listener.h"

#include <algorithm>
#include <tuple>

namespace portwarden {

std::string_view ToString(Proto proto) { return proto == Proto::kTcp ? "tcp" : "udp"; }

std::string_view ToString(Family family) { return family == Family::kIpv4 ? "ipv4" : "ipv6"; }

std::string_view ToString(OwnerKind kind) {
  switch (kind) {
    case OwnerKind::kProcess: return "process";
    case OwnerKind::kKernel: return "kernel";
    case OwnerKind::kHttpSys: return "http.sys";
    case OwnerKind::kNat: return "nat";
    case OwnerKind::kUnknown: break;
  }
  return "unknown";
}

const Process& Owner::main() const {
  static const Process kNone;
  return holders.empty() ? kNone : *holders.front();
}

const std::string& Owner::service() const {
  return socket_service.empty() ? main().service : socket_service;
}

bool Owner::operator==(const Owner& other) const {
  auto same = [](const ProcessRef& a, const ProcessRef& b) {
    return a == b || (a && b && *a == *b);
  };
  return kind == other.kind && same(supervisor, other.supervisor) &&
         socket_unit == other.socket_unit && socket_service == other.socket_service &&
         forwards_to == other.forwards_to &&
         std::equal(holders.begin(), holders.end(), other.holders.begin(), other.holders.end(),
                    [](const ProcessRef& a, const ProcessRef& b) { return a == b || *a == *b; });
}

bool ListenerLess(const Listener& a, const Listener& b) {
  return std::tie(a.port, a.proto, a.family, a.address, a.netns, a.owner.main().pid) <
         std::tie(b.port, b.proto, b.family, b.address, b.netns, b.owner.main().pid);
}

}  // namespace portwarden
