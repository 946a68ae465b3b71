#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portwarden::policy {

/// Canonical text of an IP address, so that config addresses and the addresses collectors
/// report compare equal whatever spelling either uses: parsed here, printed by the listener
/// collector's FormatIpv4 / FormatIpv6 (dotted decimal; RFC 5952 for IPv6, "::ffff:10.0.0.5"
/// for IPv4-mapped), without brackets or zone.
/// Returns nullopt if `text` is not an IPv4 or IPv6 address (a zone such as "%eth0", brackets
/// and leading zeros in an IPv4 part are refused).
std::optional<std::string> CanonicalAddress(std::string_view text);

/// True for canonical IPv6 text (it contains ':'); false for IPv4.
bool IsIpv6(std::string_view canonical);

/// True for the wildcard binds "0.0.0.0" and "::" (canonical text).
bool IsWildcard(std::string_view canonical);

}  // namespace portwarden::policy
