#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"

namespace portwarden {

/// Where a port proxy forwards the host port it holds, as its command line tells it.
/// One way of finding the target is set: container_ip, pid, netns_path, or container_id
/// (with pid_file).
struct ProxyTarget {
  std::string container_ip;  ///< docker-proxy: -container-ip (the container's address)
  uint32_t pid = 0;          ///< slirp4netns: the PID whose network namespace it serves
  std::string netns_path;    ///< slirp4netns --netns-type=path: the namespace's file
  std::string container_id;  ///< conmon: -c, the container it monitors (64 hex digits)
  std::string pid_file;      ///< conmon: -p, the file with the container's PID
  bool operator==(const ProxyTarget&) const = default;
};

/// Whether a process name (comm) is one of the port proxies that hold a published port on
/// the host for a container: docker-proxy, slirp4netns, pasta (its binary runs as passt or
/// passt.avx2), rootlessport (rootless podman's default port handler), and conmon (rootful
/// podman: conmon keeps the published port bound, its "port reservation", while
/// netavark's or CNI's DNAT rules carry the traffic). pasta's target is not on its command
/// line in every form and rootlessport's never is (its configuration comes on stdin); the
/// OS layer finds it from the namespace file each keeps open.
bool IsPortProxy(std::string_view comm);

/// The target of a port proxy from its /proc/PID/cmdline (NUL-separated):
///   docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2
///     -container-port 80   (Docker's libnetwork/portmapper; Go flags: -x v, --x v, -x=v)
///   slirp4netns [OPTIONS] PID|PATH [TAPNAME]   (PATH with --netns-type=path; the options
///     -e, -r, -m, -a take a value when it is not attached with '=')
///   conmon --api-version 1 -c ID -u ID -r /usr/bin/runc -b BUNDLE -p PIDFILE -n NAME ...
///     (podman's libpod/oci_conmon_linux.go; glib options: -c V, --cid V, --cid=V)
/// nullopt: another program, or no target on the line.
std::optional<ProxyTarget> ParseProxyCmdline(std::string_view cmdline);

/// Builds an RTM_GETADDR dump request (every address of every interface, all families). Pure.
std::vector<uint8_t> BuildAddrRequest(uint32_t seq);

/// Addresses decoded from one recv() of an RTM_GETADDR dump.
struct AddrBatch {
  std::vector<std::string> addresses;  ///< IFA_LOCAL (else IFA_ADDRESS), canonical text
  bool done = false;                   ///< NLMSG_DONE seen
};

/// Decodes one datagram answering BuildAddrRequest (RTM_NEWADDR messages: struct ifaddrmsg
/// and its attributes, include/uapi/linux/if_addr.h). A kernel error, a header overrunning
/// the datagram or a message shorter than ifaddrmsg is an error. Pure.
Expected<AddrBatch> DecodeAddrDump(std::span<const uint8_t> datagram);

}  // namespace portwarden
