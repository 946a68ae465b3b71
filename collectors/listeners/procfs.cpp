#include "collectors/listeners/procfs.h"

#include <charconv>

namespace portwarden {
namespace {

template <typename T>
bool ParseDec(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string_view NextField(std::string_view& rest) {
  size_t start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  size_t end = rest.find_first_of(" \t\n");
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return field;
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  stat.comm = std::string(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);
  // After the name: state(3) ppid(4) ... starttime(22), numbered as in proc(5).
  std::string_view field;
  for (int n = 3; n <= 22; ++n) {
    field = NextField(rest);
    if (field.empty()) return std::nullopt;
    if (n == 4 && !ParseDec(field, stat.ppid)) return std::nullopt;
  }
  if (!ParseDec(field, stat.start_time)) return std::nullopt;
  return stat;
}

std::optional<uint32_t> ParseStatusUid(std::string_view text) {
  size_t pos = text.find("\nUid:");
  if (pos == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(pos + 5);
  uint32_t uid = 0;
  if (!ParseDec(NextField(rest), uid)) return std::nullopt;
  return uid;
}

std::optional<uint32_t> ParseStatusInnermostPid(std::string_view text) {
  size_t pos = text.find("\nNSpid:");
  if (pos == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(pos + 7);
  rest = rest.substr(0, rest.find('\n'));
  std::string_view last;
  for (std::string_view f = NextField(rest); !f.empty(); f = NextField(rest)) last = f;
  uint32_t pid = 0;
  if (!ParseDec(last, pid)) return std::nullopt;
  return pid;
}

std::vector<CgroupLine> SplitCgroup(std::string_view cgroup) {
  std::vector<CgroupLine> lines;
  while (!cgroup.empty()) {
    size_t eol = cgroup.find('\n');
    std::string_view line = cgroup.substr(0, eol);
    cgroup.remove_prefix(eol == std::string_view::npos ? cgroup.size() : eol + 1);
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    lines.push_back({line.substr(c1 + 1, c2 - c1 - 1), line.substr(c2 + 1)});
  }
  return lines;
}

std::string ParseSystemdUnit(std::string_view cgroup) {
  std::string unit;
  for (auto [controllers, path] : SplitCgroup(cgroup)) {
    if (!controllers.empty() && controllers != "name=systemd") continue;
    std::string innermost;
    while (!path.empty()) {
      size_t slash = path.find('/');
      std::string_view part = path.substr(0, slash);
      path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
      if (part.size() > 8 && part.ends_with(".service")) innermost = std::string(part);
    }
    if (!innermost.empty()) unit = innermost;
    if (controllers.empty() && !unit.empty()) break;  // v2 is authoritative
  }
  return unit;
}

std::optional<std::vector<std::string>> ParseListenFds(std::string_view env_block, uint32_t pid) {
  std::string_view listen_pid, listen_fds, names;
  bool has_names = false;
  while (!env_block.empty()) {
    size_t end = env_block.find('\0');
    std::string_view var = env_block.substr(0, end);
    env_block.remove_prefix(end == std::string_view::npos ? env_block.size() : end + 1);
    if (var.starts_with("LISTEN_PID=")) listen_pid = var.substr(11);
    if (var.starts_with("LISTEN_FDS=")) listen_fds = var.substr(11);
    if (var.starts_with("LISTEN_FDNAMES=")) {
      names = var.substr(15);
      has_names = true;
    }
  }
  uint32_t for_pid = 0;
  uint32_t count = 0;
  // More than a few thousand is no real activation: bound what one environ can make.
  if (!ParseDec(listen_pid, for_pid) || for_pid != pid || !ParseDec(listen_fds, count) ||
      count == 0 || count > 4096) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  out.reserve(count);
  while (has_names && out.size() < count) {
    size_t colon = names.find(':');
    out.emplace_back(names.substr(0, colon));
    if (colon == std::string_view::npos) break;
    names.remove_prefix(colon + 1);
  }
  out.resize(count, "unknown");
  return out;
}

std::optional<uint64_t> ParseSocketLink(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (!link.starts_with(kPrefix) || !link.ends_with(']')) return std::nullopt;
  uint64_t inode = 0;
  if (!ParseDec(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1), inode)) {
    return std::nullopt;
  }
  return inode;
}

}  // namespace portwarden
