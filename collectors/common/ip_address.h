#pragma once

// IP address text parsing without OS headers (inet_pton lives in <arpa/inet.h> and
// <ws2tcpip.h>), so that addresses printed differently ("::", "0:0::0", "[::]") compare equal.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace portwarden {

/// An IPv4 or IPv6 address as bytes in network order (IPv4 uses the first 4).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
  /// 0.0.0.0 or ::, the wildcard a listener binds to accept on every address.
  bool IsUnspecified() const;
};

/// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with "::", an IPv4 tail, an optional
/// "%zone" which is ignored, and optional surrounding brackets). nullopt on anything else.
/// Pure; thread-safe.
std::optional<IpAddress> ParseIpAddress(std::string_view text);

}  // namespace portwarden
