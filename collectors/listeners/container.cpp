#include "collectors/listeners/container.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "collectors/listeners/procfs.h"

namespace portwarden {
namespace {

bool IsHexId(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// "PREFIX-ID.scope" -> ID, or empty.
std::string_view ScopeId(std::string_view part, std::string_view prefix) {
  constexpr std::string_view kScope = ".scope";
  if (!part.starts_with(prefix) || !part.ends_with(kScope)) return {};
  std::string_view id = part.substr(prefix.size(), part.size() - prefix.size() - kScope.size());
  return IsHexId(id) ? id : std::string_view();
}

// A pod UID from a kubepods path part: "kubepods-burstable-pod1a2b_3c4d.slice" (systemd
// driver: dashes escaped to underscores) or "pod1a2b-3c4d" (cgroupfs); empty otherwise.
std::string PodUid(std::string_view part) {
  constexpr std::string_view kSlice = ".slice";
  if (part.ends_with(kSlice)) part.remove_suffix(kSlice.size());
  size_t at = part.rfind("pod");
  if (at == std::string_view::npos || (at != 0 && part[at - 1] != '-')) return {};
  std::string uid(part.substr(at + 3));
  if (uid.size() != 36) return {};
  std::replace(uid.begin(), uid.end(), '_', '-');
  for (size_t i = 0; i < uid.size(); ++i) {
    char c = uid[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    bool ok = dash ? c == '-' : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok) return {};
  }
  return uid;
}

// (runtime, ID) if this path part names a container; previous: the part before it.
std::pair<std::string_view, std::string_view> Match(std::string_view part,
                                                    std::string_view previous, bool in_pod) {
  constexpr std::pair<std::string_view, std::string_view> kScopes[] = {
      {"docker-", "docker"}, {"libpod-", "podman"}, {"cri-containerd-", "containerd"},
      {"crio-", "cri-o"}};
  for (auto [prefix, runtime] : kScopes) {
    if (auto id = ScopeId(part, prefix); !id.empty()) return {runtime, id};
  }
  if (IsHexId(part) && previous == "docker") return {"docker", part};  // cgroupfs driver
  // podman's cgroupfs manager: /libpod_parent/libpod-ID
  if (part.starts_with("libpod-") && IsHexId(part.substr(7))) return {"podman", part.substr(7)};
  // kubepods with the cgroupfs driver: the ID alone, the runtime is not named
  if (IsHexId(part) && in_pod) return {"", part};
  return {};
}

ContainerRef FromPath(std::string_view path) {
  ContainerRef ref;
  bool kubepods = false;
  std::string_view previous;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.empty()) continue;
    if (part.starts_with("kubepods")) kubepods = true;
    if (kubepods) {
      if (std::string uid = PodUid(part); !uid.empty()) ref.pod = uid;
    }
    auto [runtime, id] = Match(part, previous, !ref.pod.empty());
    if (!id.empty()) {
      ref.id = std::string(id);
      ref.runtime = runtime.empty() ? "kubernetes" : std::string(runtime);
    }
    previous = part;
  }
  if (ref.id.empty()) ref.pod.clear();  // a pod's own slice (or its pause) is no container
  return ref;
}

}  // namespace

ContainerRef ParseContainer(std::string_view cgroup) {
  ContainerRef found;
  for (auto [controllers, path] : SplitCgroup(cgroup)) {
    ContainerRef ref = FromPath(path);
    if (ref.id.empty()) continue;
    found = std::move(ref);
    if (controllers.empty()) break;  // v2 ("0::") is authoritative
  }
  return found;
}

std::string ShortContainerId(std::string_view id) { return std::string(id.substr(0, 12)); }

std::string ParseDockerConfigName(std::string_view config_json) {
  auto doc = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return {};
  auto name = doc.find("Name");
  if (name == doc.end() || !name->is_string()) return {};
  std::string text = name->get<std::string>();
  if (text.starts_with('/')) text.erase(0, 1);
  return text;
}

std::string ParseStorageContainerName(std::string_view containers_json, std::string_view id) {
  auto doc = nlohmann::json::parse(containers_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return {};
  for (const auto& c : doc) {
    if (!c.is_object()) continue;
    auto cid = c.find("id");
    if (cid == c.end() || !cid->is_string() || cid->get<std::string>() != id) continue;
    auto names = c.find("names");
    if (names == c.end() || !names->is_array() || names->empty() || !names->front().is_string()) {
      return {};
    }
    return names->front().get<std::string>();
  }
  return {};
}

}  // namespace portwarden
