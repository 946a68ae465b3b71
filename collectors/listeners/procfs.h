#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portwarden {

/// Fields of /proc/PID/stat that attribution needs.
struct ProcStat {
  std::string comm;  ///< process name, without the parentheses
  uint32_t ppid = 0;
  uint64_t start_time = 0;  ///< clock ticks since boot: tells a reused PID apart
};

/// Parses /proc/PID/stat. The name may hold spaces and ')' so the last ')' ends it.
std::optional<ProcStat> ParseProcStat(std::string_view text);

/// Real UID from the "Uid:" line of /proc/PID/status.
std::optional<uint32_t> ParseStatusUid(std::string_view text);

/// The PID a process has in its own PID namespace: the last field of the "NSpid:" line of
/// /proc/PID/status (1 for a container's init).
std::optional<uint32_t> ParseStatusInnermostPid(std::string_view text);

/// One line of /proc/PID/cgroup, "hierarchy-ID:controllers:path": v2 has empty
/// controllers ("0::/path"), v1's systemd hierarchy reads "name=systemd".
struct CgroupLine {
  std::string_view controllers;
  std::string_view path;
};
/// Every well-formed line of a /proc/PID/cgroup text, in order (malformed ones skipped).
std::vector<CgroupLine> SplitCgroup(std::string_view cgroup);

/// The systemd unit a process runs in, from /proc/PID/cgroup (v2 "0::/system.slice/x.service"
/// or the v1 name=systemd hierarchy): the innermost *.service; empty if there is none
/// (login sessions' scopes are left out: their names are per-session, unbounded).
std::string ParseSystemdUnit(std::string_view cgroup);

/// The fds a process was handed by socket activation (systemd's sd_listen_fds protocol),
/// from its /proc/PID/environ (NUL-separated): LISTEN_PID is its own pid and LISTEN_FDS
/// counts the fds from 3 up; LISTEN_FDNAMES names them, ':'-separated (systemd names
/// each after its .socket unit unless FileDescriptorName= says otherwise; a missing name
/// reads "unknown", as sd_listen_fds_with_names returns it). nullopt: not activated, or
/// LISTEN_PID names another process (a child that inherited the variables).
std::optional<std::vector<std::string>> ParseListenFds(std::string_view env_block, uint32_t pid);

/// Inode of a socket from an fd link target "socket:[12345]"; nullopt for anything else.
std::optional<uint64_t> ParseSocketLink(std::string_view link);

}  // namespace portwarden
