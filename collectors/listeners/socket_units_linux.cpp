#include "collectors/listeners/socket_units_linux.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "collectors/common/text.h"

namespace portwarden {

const std::vector<std::string> kSystemUnitDirs = {
    "/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient",
    "/run/systemd/generator.early", "/etc/systemd/system",        "/etc/systemd/system.attached",
    "/run/systemd/system",         "/run/systemd/system.attached", "/run/systemd/generator",
    "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",    "/lib/systemd/system",
    "/run/systemd/generator.late",
};

namespace {

int64_t MtimeNs(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// The names in dir, sorted (readdir's order is the file system's).
std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// path with its symlinks followed below root (an absolute target is root's, not ours);
// nullopt if masked (a link to /dev/null), a loop, or unreadable.
std::optional<std::string> Resolve(const std::string& root, std::string path) {
  for (int hop = 0; hop < 8; ++hop) {
    char target[4096];
    ssize_t n = readlink(path.c_str(), target, sizeof target);
    if (n < 0) return errno == EINVAL ? std::optional<std::string>(path) : std::nullopt;
    if (static_cast<size_t>(n) >= sizeof target) return std::nullopt;
    std::string t(target, size_t(n));
    if (t == "/dev/null") return std::nullopt;
    if (t.front() == '/') {
      path = root == "/" ? t : root + t;
    } else {
      path = path.substr(0, path.rfind('/') + 1) + t;
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<SocketUnitLoader::Stamp> SocketUnitLoader::Restamp(const std::vector<Stamp>& stamps) {
  std::vector<Stamp> now = stamps;
  for (Stamp& s : now) s.mtime_ns = MtimeNs(s.path);
  return now;
}

SocketUnitLoader::Loaded SocketUnitLoader::Read(const std::string& root) {
  Loaded loaded;
  auto table = std::make_shared<SocketUnitTable>();
  std::map<std::string, std::string> files;                        // unit -> its file
  std::map<std::string, std::map<std::string, std::string>> drops;  // unit -> conf -> file
  for (const std::string& unit_dir : kSystemUnitDirs) {
    const std::string dir = root == "/" ? unit_dir : root + unit_dir;
    loaded.stamps.push_back({dir, MtimeNs(dir)});
    for (const std::string& name : List(dir)) {
      const std::string path = dir + "/" + name;
      if (name.ends_with(".socket") && name.find('@') == std::string::npos) {
        files.try_emplace(name, path);
      } else if (name.ends_with(".socket.d") && name.find('@') == std::string::npos) {
        loaded.stamps.push_back({path, MtimeNs(path)});
        auto& confs = drops[name.substr(0, name.size() - 2)];
        for (const std::string& conf : List(path)) {
          if (conf.ends_with(".conf")) confs.try_emplace(conf, path + "/" + conf);
        }
      }
    }
  }
  for (const auto& [name, path] : files) {
    std::vector<std::string> texts;
    auto resolved = Resolve(root, path);
    auto text = resolved ? ReadFile(*resolved) : std::nullopt;
    if (resolved) loaded.stamps.push_back({*resolved, MtimeNs(*resolved)});
    if (!text) continue;  // masked or unreadable: systemd does not load it either
    texts.push_back(std::move(*text));
    for (const auto& [conf, conf_path] : drops[name]) {
      auto conf_resolved = Resolve(root, conf_path);
      if (!conf_resolved) continue;
      loaded.stamps.push_back({*conf_resolved, MtimeNs(*conf_resolved)});
      if (auto conf_text = ReadFile(*conf_resolved)) texts.push_back(std::move(*conf_text));
    }
    SocketUnit unit = ParseSocketUnit(name, texts);
    if (!unit.listens.empty()) table->units.push_back(std::move(unit));
  }
  loaded.table = std::move(table);
  return loaded;
}

std::shared_ptr<const SocketUnitTable> SocketUnitLoader::Load(const std::string& root) {
  auto it = loaded_.find(root);
  if (it != loaded_.end() && Restamp(it->second.stamps) == it->second.stamps) {
    return it->second.table;
  }
  Loaded fresh = Read(root);
  if (it == loaded_.end()) {
    it = loaded_.emplace(root, std::move(fresh)).first;
  } else {
    if (*fresh.table == *it->second.table) fresh.table = it->second.table;  // same units
    it->second = std::move(fresh);
  }
  return it->second.table;
}

}  // namespace portwarden
