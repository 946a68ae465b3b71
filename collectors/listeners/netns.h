#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace portwarden {

/// Inode of the initial network namespace: fixed by the kernel (PROC_NET_INIT_INO,
/// include/linux/proc_ns.h), the same on every boot and host.
inline constexpr uint64_t kInitNetnsInode = 0xF0000075;

/// Inode of a namespace from a /proc/PID/ns/net link target "net:[4026531840]"; nullopt
/// for anything else.
std::optional<uint64_t> ParseNetnsLink(std::string_view link);

/// One network namespace to sample.
struct NetnsEntry {
  uint64_t inode = 0;
  std::string name;      ///< "host", an `ip netns` name, or empty when none is known
  uint32_t pid = 0;      ///< a process in it (lowest PID), 0 if none
  std::string bind;      ///< an `ip netns` name that holds it (/run/netns/NAME), or empty
  bool operator==(const NetnsEntry&) const = default;
};

/// Which network namespaces exist, kept across cycles from what the OS layer reads: the
/// namespace of each process (/proc/PID/ns/net, on fork, exec, at start and in sweeps) and
/// the `ip netns` bind mounts (/run/netns/NAME). A namespace exists while a process is in it
/// or a bind mount holds it. Pure bookkeeping; not thread-safe.
class NetnsTable {
 public:
  /// The namespace named "host": the one PID 1 runs in (the source falls back to its own
  /// where PID 1's is unreadable).
  void SetHost(uint64_t inode) { host_ = inode; }
  uint64_t host() const { return host_; }
  /// pid is in namespace inode now.
  void Set(uint32_t pid, uint64_t inode);
  /// pid exited.
  void Drop(uint32_t pid);
  bool Knows(uint32_t pid) const { return pid_ns_.contains(pid); }
  /// Keeps only the PIDs in live (sorted): the others exited.
  void Sync(const std::vector<uint32_t>& live);
  /// The `ip netns` names and the inode each refers to, replacing the last list.
  void SetBindMounts(std::vector<std::pair<std::string, uint64_t>> binds);

  /// Every namespace, ordered by inode.
  std::vector<NetnsEntry> Namespaces() const;
  /// The name of every namespace that has one, by inode.
  std::map<uint64_t, std::string> Names() const;

 private:
  uint64_t host_ = 0;
  std::unordered_map<uint32_t, uint64_t> pid_ns_;
  std::map<uint64_t, std::map<uint32_t, bool>> members_;  // inode -> its PIDs
  std::map<uint64_t, std::string> binds_;                   // inode -> first name
};

}  // namespace portwarden
