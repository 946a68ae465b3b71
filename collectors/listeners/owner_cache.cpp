#include "collectors/listeners/owner_cache.h"

#include <algorithm>
#include <cmath>

namespace portwarden {
namespace {

bool ByInode(const SocketFd& a, const SocketFd& b) { return a.inode < b.inode; }

}  // namespace

void OwnerCache::Reconcile(std::vector<SocketEntry> sockets) {
  ++cycle_;
  order_.clear();
  order_.reserve(sockets.size());
  std::vector<SocketKey> fresh;
  for (auto& s : sockets) {
    SocketKey key{s.inode, s.cookie};
    auto [it, inserted] = sockets_.try_emplace(key);
    // A dump is not atomic: a socket can be reported twice when the table changes under it.
    if (!inserted && it->second.seen == cycle_) continue;
    it->second.seen = cycle_;
    if (inserted) {
      it->second.key = key;
      it->second.socket = std::move(s);
      fresh.push_back(key);
    }
    order_.push_back(&it->second);
  }
  for (auto it = sockets_.begin(); it != sockets_.end();) {
    if (it->second.seen == cycle_) {
      ++it;
      continue;
    }
    for (auto [pid, fd] : it->second.holders) {
      auto rec = procs_.find(pid);
      if (rec == procs_.end()) continue;
      // fd by copy: clang 14 cannot capture a structured binding.
      std::erase_if(rec->second.held, [&, fd = fd](const Holding& h) {
        return h.fd == fd && h.inode == it->first.inode;
      });
    }
    auto by = by_inode_.find(it->first.inode);
    if (by != by_inode_.end() && by->second == it->first) by_inode_.erase(by);
    it = sockets_.erase(it);
  }
  for (const SocketKey& key : fresh) by_inode_[key.inode] = key;
}

void OwnerCache::AddHolding(const Holding& h) {
  auto by = by_inode_.find(h.inode);
  auto rec = procs_.find(h.pid);
  if (by == by_inode_.end() || rec == procs_.end()) return;
  SocketState& st = sockets_.at(by->second);
  auto entry = std::make_pair(h.pid, h.fd);
  if (std::find(st.holders.begin(), st.holders.end(), entry) != st.holders.end()) return;
  st.holders.push_back(entry);
  st.orphan = false;
  // A process that becomes a holder may be another one than when its info was read.
  if (rec->second.held.empty()) rec->second.info_stale = true;
  rec->second.held.push_back(h);
}

void OwnerCache::RemoveHolding(const Holding& h) {
  auto by = by_inode_.find(h.inode);
  if (by != by_inode_.end()) {
    SocketState& st = sockets_.at(by->second);
    std::erase(st.holders, std::make_pair(h.pid, h.fd));
    if (st.holders.empty()) st.orphan = false;  // lost its last holder: search again
  }
  auto rec = procs_.find(h.pid);
  if (rec != procs_.end()) {
    std::erase_if(rec->second.held,
                  [&](const Holding& x) { return x.fd == h.fd && x.inode == h.inode; });
  }
}

std::vector<SocketKey> OwnerCache::Pending() const {
  std::vector<SocketKey> keys;
  for (const SocketState* st : order_) {
    if (st->holders.empty() && !st->orphan) keys.push_back(st->key);
  }
  return keys;
}

bool OwnerCache::HasHolder(const SocketKey& key) const {
  auto it = sockets_.find(key);
  return it != sockets_.end() && !it->second.holders.empty();
}

std::vector<Holding> OwnerCache::PendingClaims() const {
  std::vector<Holding> claims;
  for (const SocketKey& key : Pending()) {
    for (const auto& [pid, rec] : procs_) {
      if (key.inode > UINT32_MAX) continue;  // not a socket inode (see SocketFd)
      auto [lo, hi] = std::equal_range(rec.sockets.begin(), rec.sockets.end(),
                                       SocketFd{static_cast<uint32_t>(key.inode), 0}, ByInode);
      for (auto it = lo; it != hi; ++it) claims.push_back({pid, it->fd, key.inode});
    }
  }
  return claims;
}

size_t OwnerCache::PendingCount() const {
  size_t n = 0;
  for (const SocketState* st : order_) n += st->holders.empty() && !st->orphan;
  return n;
}

std::vector<uint32_t> OwnerCache::PendingUids() const {
  std::vector<uint32_t> uids;
  for (const SocketState* st : order_) {
    if (st->holders.empty() && !st->orphan &&
        std::find(uids.begin(), uids.end(), st->socket.uid) == uids.end()) {
      uids.push_back(st->socket.uid);
    }
  }
  return uids;
}

void OwnerCache::MarkPendingOrphaned() {
  for (SocketState* st : order_) {
    if (st->holders.empty()) st->orphan = true;
  }
}

void OwnerCache::AddNewborn(uint32_t pid, double now_s) {
  if (procs_.contains(pid)) DropProcess(pid);  // the PID was reused by a new process
  ProcessRecord& rec = procs_[pid];
  rec.born_s = now_s;
  unscanned_.insert(pid);
  if (options_.young_window_s >= 1) young_.insert(pid);
}

void OwnerCache::Unhold(uint32_t pid, ProcessRecord& rec) {
  for (const Holding& h : rec.held) {
    auto by = by_inode_.find(h.inode);
    if (by == by_inode_.end()) continue;
    SocketState& st = sockets_.at(by->second);
    std::erase(st.holders, std::make_pair(pid, h.fd));
    if (st.holders.empty()) st.orphan = false;
  }
  rec.held.clear();
}

void OwnerCache::ApplyScan(ProcessScan scan) {
  auto [it, inserted] = procs_.try_emplace(scan.pid);
  ProcessRecord& rec = it->second;
  if (!inserted && rec.scanned && rec.start_time != scan.start_time) {
    // Another process now has this PID: nothing of the old one carries over.
    rec.info.reset();
    young_.erase(scan.pid);
  }
  Unhold(scan.pid, rec);
  total_fds_ -= rec.fd_count;
  rec.start_time = scan.start_time;
  rec.scanned = true;
  rec.readable = scan.readable;
  rec.runtime_ns = scan.runtime_ns;
  rec.fd_count = scan.fd_count;
  rec.sockets = std::move(scan.sockets);
  std::sort(rec.sockets.begin(), rec.sockets.end(), ByInode);
  rec.sockets.shrink_to_fit();  // kept until the next read: no growth slack
  total_fds_ += rec.fd_count;
  unscanned_.erase(scan.pid);
  for (const SocketFd& s : rec.sockets) {
    if (by_inode_.contains(s.inode)) AddHolding({scan.pid, s.fd, s.inode});
  }
}

void OwnerCache::DropProcess(uint32_t pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) return;
  Unhold(pid, it->second);
  total_fds_ -= it->second.fd_count;
  procs_.erase(it);
  young_.erase(pid);
  unscanned_.erase(pid);
}

std::vector<uint32_t> OwnerCache::ApplyEvents(const std::vector<ProcEvent>& events, double now_s) {
  std::vector<uint32_t> order;
  std::unordered_set<uint32_t> to_read;
  std::unordered_set<uint32_t> exited;
  for (const ProcEvent& e : events) {
    switch (e.kind) {
      case ProcEvent::Kind::kFork:
        AddNewborn(e.pid, now_s);
        // A fork copies the fd table: the child holds whatever its parent held, including
        // sockets the parent got since the last cycle (those are unknown yet; the search
        // for them reads every newborn).
        if (IsHolder(e.parent) || to_read.contains(e.parent)) {
          if (to_read.insert(e.pid).second) order.push_back(e.pid);
        }
        break;
      case ProcEvent::Kind::kExec:
        if (auto it = procs_.find(e.pid); it != procs_.end()) {
          it->second.info_stale = true;
          if (!it->second.held.empty() && to_read.insert(e.pid).second) order.push_back(e.pid);
        }
        break;
      case ProcEvent::Kind::kExit:
        DropProcess(e.pid);
        to_read.erase(e.pid);
        exited.insert(e.pid);
        break;
      case ProcEvent::Kind::kUid:
      case ProcEvent::Kind::kComm:
        MarkInfoStale(e.pid);
        break;
    }
  }
  // Holders whose parent exited were re-parented: their ppid decides the main holder.
  if (!exited.empty()) {
    for (auto& [pid, rec] : procs_) {
      if (!rec.held.empty() && rec.info && exited.contains(rec.info->ppid)) rec.info_stale = true;
    }
  }
  std::erase_if(order, [&](uint32_t pid) { return !to_read.contains(pid); });
  return order;
}

std::vector<uint32_t> OwnerCache::SyncPids(const std::vector<uint32_t>& live, double now_s) {
  std::vector<uint32_t> gone;
  auto l = live.begin();
  for (const auto& [pid, rec] : procs_) {
    while (l != live.end() && *l < pid) ++l;
    if (l == live.end() || *l != pid) gone.push_back(pid);
  }
  for (uint32_t pid : gone) DropProcess(pid);
  std::vector<uint32_t> added;
  for (uint32_t pid : live) {
    if (!procs_.contains(pid)) {
      AddNewborn(pid, now_s);
      added.push_back(pid);
    }
  }
  return added;
}

void OwnerCache::SetInfo(uint32_t pid, std::optional<Process> info) {
  if (!info) {
    DropProcess(pid);
    return;
  }
  auto it = procs_.find(pid);
  if (it == procs_.end()) return;
  if (!it->second.info || *it->second.info != *info) {
    it->second.info = std::make_shared<const Process>(std::move(*info));
    it->second.info_serial = ++info_serials_;
  }
  it->second.info_stale = false;
}

void OwnerCache::MarkInfoStale(uint32_t pid) {
  auto it = procs_.find(pid);
  if (it != procs_.end()) it->second.info_stale = true;
}

const ProcessRecord* OwnerCache::Find(uint32_t pid) const {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : &it->second;
}

bool OwnerCache::IsHolder(uint32_t pid) const {
  auto it = procs_.find(pid);
  return it != procs_.end() && !it->second.held.empty();
}

std::vector<uint32_t> OwnerCache::Pids() const {
  std::vector<uint32_t> pids;
  pids.reserve(procs_.size());
  for (const auto& [pid, rec] : procs_) pids.push_back(pid);
  return pids;
}

std::vector<uint32_t> OwnerCache::HolderPids() const {
  std::vector<uint32_t> pids;
  for (const auto& [pid, rec] : procs_) {
    if (!rec.held.empty()) pids.push_back(pid);
  }
  return pids;
}

std::vector<Holding> OwnerCache::HoldingsOf(uint32_t pid) const {
  auto it = procs_.find(pid);
  return it == procs_.end() ? std::vector<Holding>{} : it->second.held;
}

std::vector<uint32_t> OwnerCache::Unscanned() const {
  std::vector<uint32_t> pids(unscanned_.begin(), unscanned_.end());
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::vector<uint32_t> OwnerCache::HoldersNeedingInfo() const {
  std::vector<uint32_t> pids;
  for (const auto& [pid, rec] : procs_) {
    if (!rec.held.empty() && (!rec.info || rec.info_stale)) pids.push_back(pid);
  }
  return pids;
}

std::vector<uint32_t> OwnerCache::DueYoung(double now_s) const {
  std::vector<uint32_t> due;
  for (uint32_t pid : young_) {
    const ProcessRecord& rec = procs_.at(pid);
    if (now_s - rec.born_s >= std::ldexp(1.0, rec.young_checks)) due.push_back(pid);
  }
  std::sort(due.begin(), due.end());
  return due;
}

void OwnerCache::MarkYoungChecked(uint32_t pid, double now_s) {
  auto it = procs_.find(pid);
  if (it == procs_.end()) return;
  double age = now_s - it->second.born_s;
  // Checks are due at ages 1, 2, 4, ... s; a late check covers the ones it skipped.
  int checks = age >= 1 ? static_cast<int>(std::floor(std::log2(age))) + 1 : 0;
  it->second.young_checks = std::max(it->second.young_checks, checks);
  if (std::ldexp(1.0, it->second.young_checks) > options_.young_window_s) young_.erase(pid);
}

std::vector<uint32_t> OwnerCache::NextSweep(size_t n, bool* wrapped) {
  *wrapped = false;
  std::vector<uint32_t> out;
  n = std::min(n, procs_.size());
  auto it = procs_.upper_bound(sweep_cursor_);
  while (out.size() < n) {
    if (it == procs_.end()) {
      it = procs_.begin();
      *wrapped = true;
    }
    out.push_back(it->first);
    sweep_cursor_ = it->first;
    ++it;
  }
  return out;
}

void OwnerCache::SetNetnsNames(std::map<uint64_t, std::string> names) {
  if (names == netns_names_) return;
  netns_names_ = std::move(names);
  ++netns_names_serial_;
}

OwnedSockets OwnerCache::Owned() const {
  // Holders by socket, as (pid, info_serial, fd) runs: equal to the last call's means the
  // output would be equal too (a key's address, port and uid never change, and a holder's
  // info changes only with a new serial).
  std::vector<uint64_t> from;
  from.reserve(owned_from_.size());
  from.push_back(netns_names_serial_);
  std::vector<std::pair<uint32_t, int32_t>> pids;
  for (const SocketState* st : order_) {
    from.push_back(st->key.inode);
    from.push_back(st->key.cookie);
    const size_t count_at = from.size();
    from.push_back(0);
    pids.clear();
    pids = st->holders;
    std::sort(pids.begin(), pids.end());  // by pid, then fd: each pid's lowest fd first
    pids.erase(std::unique(pids.begin(), pids.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               pids.end());
    for (auto [pid, fd] : pids) {
      const ProcessRecord& rec = procs_.at(pid);
      if (!rec.info) continue;
      from.push_back(pid);
      from.push_back(rec.info_serial);
      from.push_back(static_cast<uint32_t>(fd));
      ++from[count_at];
    }
  }
  if (owned_ && from == owned_from_) return owned_;

  auto out = std::make_shared<std::vector<OwnedSocket>>();
  out->reserve(order_.size());
  size_t at = 1;
  for (const SocketState* st : order_) {
    OwnedSocket owned;
    owned.socket = st->socket;
    if (auto name = netns_names_.find(st->socket.netns); name != netns_names_.end()) {
      owned.netns_name = name->second;
    }
    const uint64_t count = from[at + 2];
    at += 3;
    owned.holders.reserve(count);
    owned.fds.reserve(count);
    for (uint64_t i = 0; i < count; ++i, at += 3) {
      owned.holders.push_back(procs_.at(static_cast<uint32_t>(from[at])).info);
      owned.fds.push_back(static_cast<int32_t>(from[at + 2]));
    }
    out->push_back(std::move(owned));
  }
  owned_from_ = std::move(from);
  owned_ = std::move(out);
  return owned_;
}

}  // namespace portwarden
