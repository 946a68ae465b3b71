#include "collectors/common/ip_address.h"

#include <algorithm>
#include <vector>

#include "collectors/common/text.h"

namespace portwarden {
namespace {

std::optional<std::array<uint8_t, 4>> ParseIpv4(std::string_view s) {
  std::array<uint8_t, 4> out{};
  for (size_t part = 0; part < 4; ++part) {
    size_t dot = s.find('.');
    std::string_view digits = part < 3 ? s.substr(0, dot) : s;
    if (part < 3 && dot == std::string_view::npos) return std::nullopt;
    // Leading zeros are refused: inet_aton would read "010" as octal 8.
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0')) {
      return std::nullopt;
    }
    unsigned value = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 255) return std::nullopt;
    out[part] = static_cast<uint8_t>(value);
    if (part < 3) s.remove_prefix(dot + 1);
  }
  return out;
}

// Appends the 16-bit groups of one side of "::" to `groups`. An IPv4 tail is allowed only
// where it ends the whole address (`may_end_with_ipv4`) and counts as two groups.
bool ParseGroups(std::string_view s, bool may_end_with_ipv4, std::vector<uint16_t>& groups) {
  if (s.empty()) return true;
  while (true) {
    size_t colon = s.find(':');
    std::string_view group = s.substr(0, colon);
    bool last = colon == std::string_view::npos;
    if (last && may_end_with_ipv4 && group.find('.') != std::string_view::npos) {
      std::optional<std::array<uint8_t, 4>> v4 = ParseIpv4(group);
      if (!v4) return false;
      groups.push_back(static_cast<uint16_t>((*v4)[0] << 8 | (*v4)[1]));
      groups.push_back(static_cast<uint16_t>((*v4)[2] << 8 | (*v4)[3]));
      return true;
    }
    if (group.empty() || group.size() > 4) return false;
    unsigned value = 0;
    for (char c : group) {
      int digit = HexValue(c);
      if (digit < 0) return false;
      value = value << 4 | static_cast<unsigned>(digit);
    }
    groups.push_back(static_cast<uint16_t>(value));
    if (groups.size() > 8) return false;
    if (last) return true;
    s.remove_prefix(colon + 1);
  }
}

std::optional<std::array<uint8_t, 16>> ParseIpv6(std::string_view s) {
  size_t percent = s.find('%');
  if (percent != std::string_view::npos) {
    std::string_view zone = s.substr(percent + 1);
    bool zone_ok = !zone.empty() && std::all_of(zone.begin(), zone.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
    if (!zone_ok) return std::nullopt;
    s = s.substr(0, percent);
  }

  std::vector<uint16_t> head, tail;
  size_t gap = s.find("::");
  bool compressed = gap != std::string_view::npos;
  if (compressed) {
    if (s.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    if (!ParseGroups(s.substr(0, gap), false, head)) return std::nullopt;
    if (!ParseGroups(s.substr(gap + 2), true, tail)) return std::nullopt;
    if (head.size() + tail.size() > 7) return std::nullopt;
  } else {
    if (!ParseGroups(s, true, head) || head.size() != 8) return std::nullopt;
  }

  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < head.size(); ++i) {
    out[2 * i] = static_cast<uint8_t>(head[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(head[i] & 0xff);
  }
  size_t tail_start = 8 - tail.size();
  for (size_t i = 0; i < tail.size(); ++i) {
    out[2 * (tail_start + i)] = static_cast<uint8_t>(tail[i] >> 8);
    out[2 * (tail_start + i) + 1] = static_cast<uint8_t>(tail[i] & 0xff);
  }
  return out;
}

}  // namespace

bool IpAddress::IsUnspecified() const {
  size_t length = v6 ? 16 : 4;
  return std::all_of(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length),
                     [](uint8_t b) { return b == 0; });
}

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  bool bracketed = text.size() >= 2 && text.front() == '[' && text.back() == ']';
  if (bracketed) text = text.substr(1, text.size() - 2);
  if (text.find(':') == std::string_view::npos) {
    if (bracketed) return std::nullopt;
    std::optional<std::array<uint8_t, 4>> v4 = ParseIpv4(text);
    if (!v4) return std::nullopt;
    IpAddress address;
    std::copy(v4->begin(), v4->end(), address.bytes.begin());
    return address;
  }
  std::optional<std::array<uint8_t, 16>> v6 = ParseIpv6(text);
  if (!v6) return std::nullopt;
  return IpAddress{true, *v6};
}

}  // namespace portwarden
