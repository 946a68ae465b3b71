#include "collectors/listeners/proxy.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "collectors/listeners/address.h"
#include "collectors/listeners/netlink.h"

namespace portwarden {
namespace {

std::vector<std::string_view> SplitArgs(std::string_view cmdline) {
  std::vector<std::string_view> args;
  while (!cmdline.empty()) {
    size_t nul = cmdline.find('\0');
    args.push_back(cmdline.substr(0, nul));
    if (nul == std::string_view::npos) break;
    cmdline.remove_prefix(nul + 1);
  }
  return args;
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::optional<uint32_t> ParsePid(std::string_view s) {
  uint32_t pid = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || pid == 0) return std::nullopt;
  return pid;
}

// Go's flag package: "-name value", "--name value", "-name=value".
std::optional<std::string_view> GoFlag(const std::vector<std::string_view>& args,
                                       std::string_view name) {
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") break;
    if (a.starts_with("--")) {
      a.remove_prefix(2);
    } else if (a.starts_with('-')) {
      a.remove_prefix(1);
    } else {
      continue;
    }
    if (a == name && i + 1 < args.size()) return args[i + 1];
    if (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=') {
      return a.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

std::optional<ProxyTarget> DockerProxy(const std::vector<std::string_view>& args) {
  auto ip = GoFlag(args, "container-ip");
  if (!ip || ip->empty()) return std::nullopt;
  ProxyTarget t;
  t.container_ip = std::string(*ip);
  return t;
}

// slirp4netns(1): the positionals are PID|PATH and TAPNAME; the short options -e, -r, -m,
// -a take a value as the next argument unless it is attached.
std::optional<ProxyTarget> Slirp4netns(const std::vector<std::string_view>& args) {
  bool by_path = false;
  std::vector<std::string_view> positional;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--netns-type=path") by_path = true;
    if (a == "--netns-type" && i + 1 < args.size()) by_path = args[++i] == "path";
    if (a.starts_with('-') && a.size() > 1) {
      bool takes_value = a.size() == 2 && std::strchr("erma", a[1]) != nullptr;
      bool long_with_value = a.starts_with("--") && a.find('=') == std::string_view::npos &&
                             (a == "--exit-fd" || a == "--ready-fd" || a == "--mtu" ||
                              a == "--api-socket" || a == "--cidr" || a == "--userns-path" ||
                              a == "--outbound-addr" || a == "--outbound-addr6" ||
                              a == "--macaddress" || a == "--target-type");
      if (takes_value || long_with_value) ++i;
      continue;
    }
    positional.push_back(a);
  }
  if (positional.empty()) return std::nullopt;
  ProxyTarget t;
  if (by_path) {
    t.netns_path = std::string(positional.front());
    return t;
  }
  auto pid = ParsePid(positional.front());
  if (!pid) return std::nullopt;
  t.pid = *pid;
  return t;
}

// glib's option parser: "-s VALUE", "--long VALUE", "--long=VALUE" (and "-sVALUE").
std::optional<std::string_view> GlibOption(const std::vector<std::string_view>& args,
                                           std::string_view short_name,
                                           std::string_view long_name) {
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") break;
    if ((a == short_name || a == long_name) && i + 1 < args.size()) return args[i + 1];
    if (a.starts_with(long_name) && a.size() > long_name.size() && a[long_name.size()] == '=') {
      return a.substr(long_name.size() + 1);
    }
    if (!a.starts_with("--") && a.starts_with(short_name) && a.size() > short_name.size()) {
      return a.substr(short_name.size());
    }
  }
  return std::nullopt;
}

std::optional<ProxyTarget> Conmon(const std::vector<std::string_view>& args) {
  auto id = GlibOption(args, "-c", "--cid");
  if (!id || id->empty()) return std::nullopt;
  ProxyTarget t;
  t.container_id = std::string(*id);
  if (auto pid_file = GlibOption(args, "-p", "--container-pidfile")) t.pid_file = *pid_file;
  return t;
}

// Mirrors of the kernel UAPI (include/uapi/linux/rtnetlink.h, if_addr.h).
struct IfAddrMsg {  // struct ifaddrmsg
  uint8_t family;
  uint8_t prefixlen;
  uint8_t flags;
  uint8_t scope;
  uint32_t index;
};
static_assert(sizeof(IfAddrMsg) == 8);
constexpr uint16_t kRtmNewAddr = 20;    // RTM_NEWADDR
constexpr uint16_t kRtmGetAddr = 22;    // RTM_GETADDR
constexpr uint16_t kIfaAddress = 1;     // IFA_ADDRESS
constexpr uint16_t kIfaLocal = 2;       // IFA_LOCAL

}  // namespace

bool IsPortProxy(std::string_view comm) {
  return comm == "docker-proxy" || comm == "slirp4netns" || comm == "pasta" ||
         comm == "passt" || comm == "passt.avx2" || comm == "conmon" || comm == "rootlessport";
}

std::optional<ProxyTarget> ParseProxyCmdline(std::string_view cmdline) {
  std::vector<std::string_view> args = SplitArgs(cmdline);
  while (!args.empty() && args.back().empty()) args.pop_back();  // the trailing NUL
  if (args.empty()) return std::nullopt;
  std::string_view program = BaseName(args.front());
  if (program == "docker-proxy") return DockerProxy(args);
  if (program == "slirp4netns") return Slirp4netns(args);
  if (program == "conmon") return Conmon(args);
  return std::nullopt;
}

std::vector<uint8_t> BuildAddrRequest(uint32_t seq) {
  return netlink::DumpRequest(kRtmGetAddr, seq, IfAddrMsg{});
}

Expected<AddrBatch> DecodeAddrDump(std::span<const uint8_t> datagram) {
  using netlink::Next;
  AddrBatch batch;
  auto done = netlink::WalkDump(
      datagram, kRtmNewAddr, [&](std::span<const uint8_t> message) -> Expected<Next> {
        if (message.size() < sizeof(IfAddrMsg)) {
          return Error{"netlink: ifaddrmsg truncated to " + std::to_string(message.size()) +
                       " bytes (need " + std::to_string(sizeof(IfAddrMsg)) + ")"};
        }
        IfAddrMsg msg;
        std::memcpy(&msg, message.data(), sizeof msg);
        const size_t want = msg.family == netlink::kAfInet    ? 4
                            : msg.family == netlink::kAfInet6 ? 16
                                                              : 0;
        std::string address, local;
        netlink::ForEachAttr(message, netlink::Align4(sizeof msg),
                             [&](uint16_t type, std::span<const uint8_t> value) {
                               if ((type != kIfaAddress && type != kIfaLocal) || want == 0 ||
                                   value.size() != want) {
                                 return;
                               }
                               (type == kIfaLocal ? local : address) =
                                   want == 4 ? FormatIpv4(value.data()) : FormatIpv6(value.data());
                             });
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on a
        // point-to-point link and the same as IFA_LOCAL otherwise.
        if (!local.empty()) {
          batch.addresses.push_back(std::move(local));
        } else if (!address.empty()) {
          batch.addresses.push_back(std::move(address));
        }
        return Next::kContinue;
      });
  if (!done) return done.error();
  batch.done = *done;
  return batch;
}

}  // namespace portwarden
