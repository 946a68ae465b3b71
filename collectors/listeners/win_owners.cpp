#include "collectors/listeners/win_owners.h"

#include <utility>

namespace portwarden {
namespace {

constexpr uint32_t kSystemPid = 4;  // the kernel ("System"): HTTP.sys, SMB, ...
// Known::created of a process that could not be opened: no FILETIME is this large, so it
// is read again as soon as it can be opened.
constexpr uint64_t kUnopened = ~uint64_t{0};

bool SameOutput(const std::vector<OwnedSocket>& a, const std::vector<OwnedSocket>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    // Holders are compared by pointer: an owner whose reads did not change keeps its object.
    if (!(a[i].socket == b[i].socket) || a[i].kind != b[i].kind ||
        a[i].holders != b[i].holders) {
      return false;
    }
  }
  return true;
}

}  // namespace

ProcessRef WinOwnerCache::Owner(uint32_t pid, const std::map<uint32_t, Process>& processes,
                                const std::map<uint32_t, std::string>& services,
                                std::map<uint32_t, Known>& seen) {
  if (auto it = seen.find(pid); it != seen.end()) return it->second.info;
  Process p;
  p.pid = pid;
  if (auto it = processes.find(pid); it != processes.end()) p = it->second;
  if (auto s = services.find(pid); s != services.end()) p.service = s->second;
  const auto known = known_.find(pid);
  uint64_t created = 0;  // the kernel's: it is never opened, its PID never reused
  if (pid == kSystemPid) {
    if (p.name.empty()) p.name = "System";
  } else if (auto time = reader_.CreationTime(pid)) {
    created = *time;
    if (known != known_.end() && known->second.created == created) {
      p.exe = known->second.info->exe;  // the same process: its image and token stay
      p.user = known->second.info->user;
    } else {
      p.exe = reader_.ImagePath(pid);
      p.user = reader_.User(pid);
    }
  } else {
    created = kUnopened;  // nothing more can be read of it
  }
  // The same object while nothing changed: consumers tell changes by pointer.
  ProcessRef info = known != known_.end() && *known->second.info == p
                        ? known->second.info
                        : std::make_shared<const Process>(std::move(p));
  seen[pid] = {created, info};
  return info;
}

OwnedSockets WinOwnerCache::Attribute(std::vector<SocketEntry> sockets,
                                      const std::map<uint32_t, Process>& processes,
                                      const std::map<uint32_t, std::string>& services) {
  std::map<uint32_t, Known> seen;
  std::vector<OwnedSocket> out;
  out.reserve(sockets.size());
  for (SocketEntry& e : sockets) {
    OwnedSocket owned;
    if (e.pid != 0) {
      owned.kind = e.pid == kSystemPid ? OwnerKind::kKernel : OwnerKind::kProcess;
      owned.holders.push_back(Owner(e.pid, processes, services, seen));
    }
    owned.socket = std::move(e);
    out.push_back(std::move(owned));
  }
  known_ = std::move(seen);  // processes that own nothing any more are forgotten
  if (last_ && SameOutput(*last_, out)) return last_;
  last_ = std::make_shared<const std::vector<OwnedSocket>>(std::move(out));
  return last_;
}

}  // namespace portwarden
