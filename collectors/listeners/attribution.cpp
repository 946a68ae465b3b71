#include "collectors/listeners/attribution.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "collectors/listeners/socket_units.h"

namespace portwarden {
namespace {

bool InRanges(uint16_t port, const std::vector<PortRange>& ranges) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [port](const PortRange& r) { return port >= r.first && port <= r.last; });
}

using GroupKey =
    std::tuple<Proto, Family, std::string, uint16_t, uint64_t, OwnerKind, uint32_t>;

}  // namespace

size_t MainHolderIndex(const std::vector<ProcessRef>& holders) {
  std::set<uint32_t> pids;
  for (const auto& p : holders) pids.insert(p->pid);
  size_t best = 0;
  bool found = false;
  for (size_t i = 0; i < holders.size(); ++i) {
    bool root = !pids.contains(holders[i]->ppid) || holders[i]->ppid == holders[i]->pid;
    if (root && (!found || holders[i]->pid < holders[best]->pid)) {
      best = i;
      found = true;
    }
  }
  if (!found) {  // a cycle cannot happen in a process tree, but stay total
    for (size_t i = 1; i < holders.size(); ++i) {
      if (holders[i]->pid < holders[best]->pid) best = i;
    }
  }
  return best;
}

bool ActivatedHolder(const OwnedSocket& owned, size_t i) {
  const Process& p = *owned.holders[i];
  if (p.listen_fds.empty()) return false;
  if (owned.fds.size() != owned.holders.size()) return true;
  int32_t fd = owned.fds[i];
  return fd >= 3 && static_cast<size_t>(fd - 3) < p.listen_fds.size();
}

HolderRoles PickHolders(const OwnedSocket& owned) {
  const auto& holders = owned.holders;
  HolderRoles roles;
  roles.main = MainHolderIndex(holders);
  std::set<uint32_t> activated;
  for (size_t i = 0; i < holders.size(); ++i) {
    if (ActivatedHolder(owned, i)) activated.insert(holders[i]->pid);
  }
  if (activated.empty()) return roles;
  std::set<uint32_t> parents;  // activated holders with an activated holder child
  for (const auto& p : holders) {
    if (activated.contains(p->pid) && p->ppid != p->pid && activated.contains(p->ppid)) {
      parents.insert(p->ppid);
    }
  }
  size_t serving = holders.size();
  for (size_t i = 0; i < holders.size(); ++i) {
    uint32_t pid = holders[i]->pid;
    if (!activated.contains(pid) || parents.contains(pid)) continue;
    if (serving == holders.size() || pid < holders[serving]->pid) serving = i;
  }
  if (serving == holders.size()) return roles;  // activated holders in a cycle: stay total
  if (serving != roles.main) roles.supervisor = roles.main;
  roles.main = serving;
  return roles;
}

ListenerSet BuildListeners(const std::vector<OwnedSocket>& sockets, const ListenerFilter& filter) {
  std::map<GroupKey, Listener> groups;
  for (const auto& owned : sockets) {
    const SocketEntry& s = owned.socket;
    if (!filter.include.empty() && !InRanges(s.port, filter.include)) continue;
    if (InRanges(s.port, filter.exclude)) continue;

    Owner owner;
    if (owned.kind == OwnerKind::kNat) {
      owner.kind = OwnerKind::kNat;
      owner.forwards_to = owned.forwards_to;
    }
    if (!owned.holders.empty()) {
      owner.kind = owned.kind;
      HolderRoles roles = PickHolders(owned);
      owner.holders.reserve(owned.holders.size());
      owner.holders.push_back(owned.holders[roles.main]);
      for (size_t i = 0; i < owned.holders.size(); ++i) {
        if (i != roles.main) owner.holders.push_back(owned.holders[i]);
      }
      if (roles.supervisor < owned.holders.size()) {
        owner.supervisor = owned.holders[roles.supervisor];
      }
      if (ActivatedHolder(owned, roles.main)) {
        const auto& names = owned.holders[roles.main]->listen_fds;
        size_t at = owned.fds.size() == owned.holders.size() ? size_t(owned.fds[roles.main] - 3) : 0;
        owner.socket_unit = names[at];
      } else if (const auto& units = owner.holders.front()->socket_units) {
        if (const SocketUnit* unit = MatchSocketUnit(*units, s)) {
          owner.socket_unit = unit->name;
          owner.socket_service = unit->service;
        }
      }
    }
    GroupKey key{s.proto, s.family, s.address, s.port, s.netns, owner.kind, owner.main().pid};
    auto [it, inserted] = groups.try_emplace(key);
    Listener& l = it->second;
    if (inserted) {
      l.proto = s.proto;
      l.family = s.family;
      l.address = s.address;
      l.port = s.port;
      l.v6only = s.v6only;
      l.netns = s.netns;
      l.netns_name = owned.netns_name;
      l.owner = std::move(owner);
      l.sockets = 1;
      continue;
    }
    ++l.sockets;
    // Workers of a REUSEPORT group each hold their own socket: keep the union of holders.
    for (auto& p : owner.holders) {
      bool known = std::any_of(l.owner.holders.begin(), l.owner.holders.end(),
                               [&](const ProcessRef& h) { return h->pid == p->pid; });
      if (!known) l.owner.holders.push_back(std::move(p));
    }
  }

  ListenerSet set;
  set.listeners.reserve(groups.size());
  for (auto& [key, l] : groups) {
    bool tcp = l.proto == Proto::kTcp;
    (tcp ? set.tcp : set.udp)++;
    if (l.owner.kind == OwnerKind::kUnknown) (tcp ? set.unattributed_tcp : set.unattributed_udp)++;
    set.listeners.push_back(std::move(l));
  }
  std::sort(set.listeners.begin(), set.listeners.end(), ListenerLess);
  if (set.listeners.size() > filter.max_series) {
    set.dropped = set.listeners.size() - filter.max_series;
    set.listeners.resize(filter.max_series);
  }
  return set;
}

std::shared_ptr<const ListenerSet> ListenerBuilder::Build(const OwnedSockets& sample,
                                                          const ListenerFilter& filter) {
  if (!built_ || sample != sample_ || !(filter == filter_)) {
    built_ = std::make_shared<const ListenerSet>(BuildListeners(*sample, filter));
    sample_ = sample;
    filter_ = filter;
  }
  return built_;
}

}  // namespace portwarden
