#pragma once

#include <cstdint>
#include <string>

namespace portwarden {

/// Formats 4 network-order bytes as dotted quad ("10.0.0.5"). Pure, no OS call.
std::string FormatIpv4(const uint8_t bytes[4]);

/// Formats 16 network-order bytes per RFC 5952 ("::", "::1", "fe80::1",
/// "::ffff:10.0.0.5"). Pure, no OS call.
std::string FormatIpv6(const uint8_t bytes[16]);

}  // namespace portwarden
