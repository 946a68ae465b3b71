#pragma once

#include <string>
#include <string_view>

namespace portwarden {

/// The container a process runs in, as its cgroup path shows it.
struct ContainerRef {
  /// "docker", "podman", "containerd", "cri-o", or "kubernetes" where the path does not
  /// name the runtime (kubepods with the cgroupfs driver); empty: not in a container.
  std::string runtime;
  std::string id;       ///< the container ID (64 hex digits) as the cgroup path has it
  std::string pod;      ///< Kubernetes pod UID (dashes, as the API shows it), or empty
  bool operator==(const ContainerRef&) const = default;
};

/// The container of a process from its /proc/PID/cgroup text (v2 "0::PATH" or the v1
/// hierarchies), by the shapes the runtimes give their cgroups:
///   docker-ID.scope (systemd driver) or /docker/ID (cgroupfs driver),
///   libpod-ID.scope or /libpod_parent/libpod-ID (podman; libpod-conmon-ID.scope is the
///   monitor, not the container), cri-containerd-ID.scope, crio-ID.scope, and under
///   kubepods: podUID slices (pod12ab_34cd... with the systemd driver, pod12ab-34cd...
///   with cgroupfs) with the container ID as the last part.
/// The innermost match wins; a process in none is not in a container (runtime empty).
ContainerRef ParseContainer(std::string_view cgroup);

/// The first 12 digits of a container ID, as `docker ps` and `podman ps` show it.
std::string ShortContainerId(std::string_view id);

/// The container's name from Docker's state file
/// /var/lib/docker/containers/ID/config.v2.json ("Name": "/web-1" -> "web-1"); empty if
/// the text has none.
std::string ParseDockerConfigName(std::string_view config_json);

/// The container's name from containers/storage's list of containers
/// (/var/lib/containers/storage/overlay-containers/containers.json, kept by podman and
/// CRI-O: [{"id": ID, "names": [NAME, ...], ...}, ...]): the first name of the entry whose
/// id is `id`; empty if there is none.
std::string ParseStorageContainerName(std::string_view containers_json, std::string_view id);

}  // namespace portwarden
