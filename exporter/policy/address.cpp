#include "exporter/policy/address.h"

#include "collectors/common/ip_address.h"
#include "collectors/listeners/address.h"

namespace portwarden::policy {

std::optional<std::string> CanonicalAddress(std::string_view text) {
  // Config addresses are plain: brackets belong to the listen syntax, zones are not bindable.
  if (text.find_first_of("[]%") != std::string_view::npos) return std::nullopt;
  const std::optional<IpAddress> ip = ParseIpAddress(text);
  if (!ip) return std::nullopt;
  return ip->v6 ? FormatIpv6(ip->bytes.data()) : FormatIpv4(ip->bytes.data());
}

bool IsIpv6(std::string_view canonical) { return canonical.find(':') != std::string_view::npos; }

bool IsWildcard(std::string_view canonical) { return canonical == "0.0.0.0" || canonical == "::"; }

}  // namespace portwarden::policy
