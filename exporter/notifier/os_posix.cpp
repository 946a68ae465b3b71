#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "exporter/notifier/os.h"

namespace portwarden::notifier {
namespace {

Error SysError(std::string_view what, const std::string& path) {
  return Error{std::string(what) + " " + path + ": " + std::strerror(errno)};
}

// Large writes go in pieces: write(2) may write less than asked.
bool WriteAll(int fd, std::string_view data) {
  constexpr size_t kChunk = 1 << 20;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), std::min(data.size(), kChunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Expected<bool> WriteFileAtomically(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SysError("cannot create", tmp);
  if (!WriteAll(fd, data) || ::fsync(fd) != 0) {
    Error e = SysError("cannot write", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::close(fd) != 0) return SysError("cannot close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return SysError("cannot rename onto", path);
  // The rename is durable only once the directory entry is on disk too.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

Expected<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return SysError("cannot open", path);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = SysError("cannot read", path);
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(out));
}

void RemoveFileIfExists(const std::string& path) { ::unlink(path.c_str()); }

Expected<bool> CreateParentDirectories(const std::string& path) {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create directory " + dir.string() + ": " + ec.message()};
  return true;
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

std::string DefaultQueuePath() { return "/var/lib/portwarden/alert-queue.json"; }

}  // namespace portwarden::notifier
