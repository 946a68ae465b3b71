// Linux: sockets from netlink sock_diag (fallback /proc/net/*), owners from /proc/PID/fd.
#include <dirent.h>
#include <linux/netlink.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "collectors/listeners/inet_diag.h"
#include "collectors/listeners/proc_net.h"
#include "collectors/listeners/procfs.h"
#include "collectors/listeners/source.h"

namespace portwarden {
namespace {

constexpr std::array<std::pair<Proto, Family>, 4> kTables = {{
    {Proto::kTcp, Family::kIpv4},
    {Proto::kTcp, Family::kIpv6},
    {Proto::kUdp, Family::kIpv4},
    {Proto::kUdp, Family::kIpv6},
}};

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

std::optional<uint32_t> ParsePid(const char* name) {
  uint32_t pid = 0;
  const char* end = name + std::strlen(name);
  auto [ptr, ec] = std::from_chars(name, end, pid);
  if (ec != std::errc() || ptr != end || pid == 0) return std::nullopt;
  return pid;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Expected<std::vector<SocketEntry>> DumpNetlink() {
  Fd fd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (fd.get() < 0) return Error{std::string("netlink socket: ") + std::strerror(errno)};
  std::vector<SocketEntry> all;
  std::vector<uint8_t> buf(64 * 1024);
  uint32_t seq = 0;
  for (auto [proto, family] : kTables) {
    std::vector<uint8_t> req = BuildInetDiagRequest(proto, family, ++seq);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd.get(), req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
      return Error{std::string("netlink sendto: ") + std::strerror(errno)};
    }
    for (bool done = false; !done;) {
      ssize_t n = recv(fd.get(), buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error{std::string("netlink recv: ") + std::strerror(errno)};
      }
      auto batch = DecodeInetDiag(std::span<const uint8_t>(buf.data(), size_t(n)), proto);
      if (!batch) return batch.error();
      for (auto& s : batch->sockets) all.push_back(std::move(s));
      done = batch->done || n == 0;
    }
  }
  return all;
}

class LinuxListenerSource : public ListenerSource {
 public:
  explicit LinuxListenerSource(SourceOptions options) : options_(std::move(options)) {}

  Expected<std::vector<OwnedSocket>> Sample() override {
    auto sockets = ReadSockets();
    if (!sockets) return sockets.error();
    return Attribute(std::move(*sockets));
  }

  std::string Backend() const override { return backend_; }

 private:
  Expected<std::vector<SocketEntry>> ReadSockets() {
    if (options_.use_netlink) {
      auto dumped = DumpNetlink();
      if (dumped) {
        backend_ = "netlink";
        return dumped;
      }
    }
    backend_ = "procfs";
    std::vector<SocketEntry> all;
    for (auto [proto, family] : kTables) {
      std::string path = options_.proc_root + "/net/" + (proto == Proto::kTcp ? "tcp" : "udp") +
                         (family == Family::kIpv6 ? "6" : "");
      auto text = ReadFile(path);
      if (!text) {
        if (family == Family::kIpv6) continue;  // a kernel without IPv6 has no tcp6/udp6
        return Error{"cannot read " + path + ": " + std::strerror(errno)};
      }
      auto table = ParseProcNet(*text, proto, family);
      if (!table) return Error{path + ": " + table.error().message};
      for (auto& s : table->sockets) all.push_back(std::move(s));
    }
    return all;
  }

  // Finds the holders of the wanted inodes by reading every /proc/PID/fd link.
  std::vector<OwnedSocket> Attribute(std::vector<SocketEntry> sockets) {
    std::unordered_map<uint64_t, std::vector<uint32_t>> holders;
    for (const auto& s : sockets) holders.try_emplace(s.inode);
    ScanFds(holders);

    std::unordered_map<uint32_t, std::optional<Process>> processes;
    std::vector<OwnedSocket> out;
    out.reserve(sockets.size());
    for (auto& s : sockets) {
      OwnedSocket owned;
      for (uint32_t pid : holders[s.inode]) {
        auto [it, inserted] = processes.try_emplace(pid);
        if (inserted) it->second = ReadProcess(pid);
        if (it->second) owned.holders.push_back(*it->second);
      }
      owned.socket = std::move(s);
      out.push_back(std::move(owned));
    }
    return out;
  }

  void ScanFds(std::unordered_map<uint64_t, std::vector<uint32_t>>& holders) {
    DIR* proc = opendir(options_.proc_root.c_str());
    if (!proc) return;
    char link[64];
    std::string path;
    while (dirent* entry = readdir(proc)) {
      auto pid = ParsePid(entry->d_name);
      if (!pid) continue;
      std::string fd_dir = options_.proc_root + "/" + entry->d_name + "/fd";
      DIR* fds = opendir(fd_dir.c_str());
      if (!fds) continue;  // gone, or not ours to read: its sockets stay unattributed
      while (dirent* fd = readdir(fds)) {
        if (fd->d_name[0] == '.') continue;
        path = fd_dir + "/" + fd->d_name;
        ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
        if (n <= 0) continue;
        auto inode = ParseSocketLink(std::string_view(link, size_t(n)));
        if (!inode) continue;
        auto it = holders.find(*inode);
        if (it != holders.end() &&
            (it->second.empty() || it->second.back() != *pid)) {
          it->second.push_back(*pid);
        }
      }
      closedir(fds);
    }
    closedir(proc);
  }

  std::optional<Process> ReadProcess(uint32_t pid) {
    std::string dir = options_.proc_root + "/" + std::to_string(pid);
    auto stat_text = ReadFile(dir + "/stat");
    if (!stat_text) return std::nullopt;
    auto stat = ParseProcStat(*stat_text);
    if (!stat) return std::nullopt;
    Process p;
    p.pid = pid;
    p.ppid = stat->ppid;
    p.name = stat->comm;
    char exe[4096];
    ssize_t n = readlink((dir + "/exe").c_str(), exe, sizeof exe - 1);
    if (n > 0) p.exe.assign(exe, size_t(n));
    if (auto status = ReadFile(dir + "/status")) {
      if (auto uid = ParseStatusUid(*status)) p.user = UserName(*uid);
    }
    if (auto cgroup = ReadFile(dir + "/cgroup")) p.service = ParseSystemdUnit(*cgroup);
    return p;
  }

  const std::string& UserName(uint32_t uid) {
    auto [it, inserted] = users_.try_emplace(uid);
    if (inserted) {
      passwd pw{};
      passwd* result = nullptr;
      std::array<char, 4096> buf{};
      if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) == 0 && result) {
        it->second = result->pw_name;
      } else {
        it->second = std::to_string(uid);
      }
    }
    return it->second;
  }

  SourceOptions options_;
  std::string backend_ = "netlink";
  std::map<uint32_t, std::string> users_;
};

}  // namespace

std::unique_ptr<ListenerSource> MakeListenerSource(const SourceOptions& options) {
  return std::make_unique<LinuxListenerSource>(options);
}

}  // namespace portwarden
