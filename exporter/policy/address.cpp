#include "exporter/policy/address.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "collectors/listeners/address.h"

namespace portwarden::policy {
namespace {

std::optional<std::array<uint8_t, 4>> ParseIpv4(std::string_view text) {
  std::array<uint8_t, 4> bytes{};
  std::size_t part = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t digits = 0;
    int value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 4) {
      value = value * 10 + (text[i] - '0');
      ++digits;
      ++i;
    }
    // Leading zeros are refused: inet_aton would read "010" as octal 8.
    if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && text[i - digits] == '0')) {
      return std::nullopt;
    }
    bytes[part++] = static_cast<uint8_t>(value);
    if (part == 4) break;
    if (i >= text.size() || text[i] != '.') return std::nullopt;
    ++i;
  }
  if (i != text.size()) return std::nullopt;
  return bytes;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Parses the groups of one side of "::" (or of an address without "::"); an IPv4 tail is
/// allowed only where `allow_ipv4_tail` says the address ends here.
std::optional<std::vector<uint16_t>> ParseGroups(std::string_view text, bool allow_ipv4_tail) {
  std::vector<uint16_t> groups;
  if (text.empty()) return groups;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = text.find(':', start);
    const std::string_view group = text.substr(start, colon - start);
    if (colon == std::string_view::npos && allow_ipv4_tail &&
        group.find('.') != std::string_view::npos) {
      const auto v4 = ParseIpv4(group);
      if (!v4) return std::nullopt;
      groups.push_back(static_cast<uint16_t>((*v4)[0] << 8 | (*v4)[1]));
      groups.push_back(static_cast<uint16_t>((*v4)[2] << 8 | (*v4)[3]));
      return groups;
    }
    if (group.empty() || group.size() > 4) return std::nullopt;
    unsigned value = 0;
    for (char c : group) {
      const int digit = HexValue(c);
      if (digit < 0) return std::nullopt;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    groups.push_back(static_cast<uint16_t>(value));
    if (colon == std::string_view::npos) return groups;
    start = colon + 1;
  }
}

/// Eight IPv6 groups as 16 network-order bytes.
std::array<uint8_t, 16> ToBytes(const std::array<uint16_t, 8>& groups) {
  std::array<uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < groups.size(); ++i) {
    bytes[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
    bytes[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xff);
  }
  return bytes;
}

/// The 16 network-order bytes of an IPv6 address.
std::optional<std::array<uint8_t, 16>> ParseIpv6(std::string_view text) {
  std::array<uint16_t, 8> groups{};
  const std::size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    const auto all = ParseGroups(text, true);
    if (!all || all->size() != 8) return std::nullopt;
    std::copy(all->begin(), all->end(), groups.begin());
    return ToBytes(groups);
  }
  if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
  const auto head = ParseGroups(text.substr(0, gap), false);
  const auto tail = ParseGroups(text.substr(gap + 2), true);
  // "::" stands for at least one zero group.
  if (!head || !tail || head->size() + tail->size() > 7) return std::nullopt;
  std::copy(head->begin(), head->end(), groups.begin());
  std::copy(tail->begin(), tail->end(), groups.end() - static_cast<std::ptrdiff_t>(tail->size()));
  return ToBytes(groups);
}

}  // namespace

std::optional<std::string> CanonicalAddress(std::string_view text) {
  if (text.find(':') == std::string_view::npos) {
    const auto v4 = ParseIpv4(text);
    if (!v4) return std::nullopt;
    return FormatIpv4(v4->data());
  }
  const auto v6 = ParseIpv6(text);
  if (!v6) return std::nullopt;
  return FormatIpv6(v6->data());
}

bool IsIpv6(std::string_view canonical) { return canonical.find(':') != std::string_view::npos; }

bool IsWildcard(std::string_view canonical) { return canonical == "0.0.0.0" || canonical == "::"; }

}  // namespace portwarden::policy
