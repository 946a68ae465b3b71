#include "collectors/listeners/netns.h"

#include <algorithm>
#include <charconv>

namespace portwarden {

std::optional<uint64_t> ParseNetnsLink(std::string_view link) {
  constexpr std::string_view kPrefix = "net:[";
  if (!link.starts_with(kPrefix) || !link.ends_with(']')) return std::nullopt;
  std::string_view digits = link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1);
  uint64_t inode = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return inode;
}

void NetnsTable::Set(uint32_t pid, uint64_t inode) {
  auto [it, inserted] = pid_ns_.try_emplace(pid, inode);
  if (!inserted) {
    if (it->second == inode) return;
    Drop(pid);
    pid_ns_.emplace(pid, inode);
  }
  members_[inode][pid] = true;
}

void NetnsTable::Drop(uint32_t pid) {
  auto it = pid_ns_.find(pid);
  if (it == pid_ns_.end()) return;
  auto members = members_.find(it->second);
  members->second.erase(pid);
  if (members->second.empty()) members_.erase(members);
  pid_ns_.erase(it);
}

void NetnsTable::Sync(const std::vector<uint32_t>& live) {
  std::vector<uint32_t> gone;
  for (const auto& [pid, inode] : pid_ns_) {
    if (!std::binary_search(live.begin(), live.end(), pid)) gone.push_back(pid);
  }
  for (uint32_t pid : gone) Drop(pid);
}

void NetnsTable::SetBindMounts(std::vector<std::pair<std::string, uint64_t>> binds) {
  std::sort(binds.begin(), binds.end());
  binds_.clear();
  for (auto& [name, inode] : binds) binds_.try_emplace(inode, std::move(name));
}

std::vector<NetnsEntry> NetnsTable::Namespaces() const {
  std::map<uint64_t, NetnsEntry> all;
  for (const auto& [inode, pids] : members_) {
    NetnsEntry& e = all[inode];
    e.inode = inode;
    e.pid = pids.begin()->first;
  }
  for (const auto& [inode, name] : binds_) {
    NetnsEntry& e = all[inode];
    e.inode = inode;
    e.bind = name;
  }
  std::vector<NetnsEntry> out;
  out.reserve(all.size());
  for (auto& [inode, e] : all) {
    e.name = inode == host_ ? "host" : e.bind;
    out.push_back(std::move(e));
  }
  return out;
}

std::map<uint64_t, std::string> NetnsTable::Names() const {
  std::map<uint64_t, std::string> names(binds_.begin(), binds_.end());
  if (host_ != 0) names[host_] = "host";
  return names;
}

}  // namespace portwarden
