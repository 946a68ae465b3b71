#include "collectors/httpsys/registry.h"

#include <cstdio>
#include <optional>

#include "collectors/common/ip_address.h"
#include "collectors/httpsys/bytes.h"
#include "collectors/common/text.h"
#include "collectors/httpsys/netsh_text.h"
#include "collectors/listeners/address.h"

namespace portwarden::httpsys {
namespace {

using internal::LoadU16;
using internal::LoadU32;

// SECURITY_DESCRIPTOR_RELATIVE: Revision, Sbz1, Control (u16), then the u32 offsets of
// Owner, Group, Sacl and Dacl (winnt.h).
constexpr size_t kSdHeaderSize = 20;
constexpr size_t kSdDaclOffsetField = 16;
constexpr uint16_t kSeDaclPresent = 0x0004;
constexpr uint16_t kSeSelfRelative = 0x8000;
// ACL: AclRevision, Sbz1, AclSize (u16), AceCount (u16), Sbz2 (u16).
constexpr size_t kAclHeaderSize = 8;
// ACE_HEADER: AceType, AceFlags, AceSize (u16); ACCESS_ALLOWED_ACE adds Mask (u32) and the
// SID starting at SidStart.
constexpr size_t kAceSidOffset = 8;
constexpr uint8_t kAccessAllowedAceType = 0;
constexpr uint8_t kAccessDeniedAceType = 1;
// SID: Revision, SubAuthorityCount, IdentifierAuthority[6] (big-endian), SubAuthority[] u32.
constexpr size_t kSidHeaderSize = 8;
constexpr uint8_t kSidMaxSubAuthorities = 15;

std::optional<IpAddress> ParseListEntry(std::string_view text) {
  text = internal::Trim(text);
  if (auto ip = ParseIpAddress(text)) return ip;
  // "[v6]:port" or "v4:port": the port HTTP.sys would take with an address is not part of
  // the listen list's meaning.
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || !ParsePort(text.substr(colon + 1))) {
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  if (host.starts_with("[") != host.ends_with("]")) return std::nullopt;
  if (!host.starts_with("[") && host.find(':') != std::string_view::npos) return std::nullopt;
  return ParseIpAddress(host);
}

std::string Canonical(const IpAddress& ip) {
  return ip.v6 ? FormatIpv6(ip.bytes.data()) : FormatIpv4(ip.bytes.data());
}

Error SdError(std::string_view what) { return Error{"security descriptor: " + std::string(what)}; }

Expected<std::string> SidString(std::span<const uint8_t> sid) {
  if (sid.size() < kSidHeaderSize) return SdError("SID cut short");
  if (sid[0] != 1) return SdError("SID revision " + std::to_string(sid[0]) + ", expected 1");
  const uint8_t count = sid[1];
  if (count > kSidMaxSubAuthorities) {
    return SdError("SID with " + std::to_string(count) + " sub-authorities (at most 15)");
  }
  if (sid.size() < kSidHeaderSize + 4u * count) return SdError("SID cut short");
  uint64_t authority = 0;
  for (size_t i = 2; i < 8; ++i) authority = authority << 8 | sid[i];
  std::string out = "S-1-";
  if (authority >> 32 == 0) {
    out += std::to_string(authority);
  } else {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%012llX", static_cast<unsigned long long>(authority));
    out += hex;
  }
  for (size_t i = 0; i < count; ++i) {
    out += "-" + std::to_string(LoadU32(sid, kSidHeaderSize + 4 * i));
  }
  return out;
}

std::string AceFlags(uint8_t flags) {
  static constexpr struct {
    uint8_t bit;
    const char* text;
  } kFlags[] = {{0x01, "OI"}, {0x02, "CI"}, {0x04, "NP"}, {0x08, "IO"}, {0x10, "ID"}};
  std::string out;
  for (const auto& f : kFlags) {
    if (flags & f.bit) out += f.text;
  }
  return out;
}

std::string Rights(uint32_t mask) {
  static constexpr struct {
    uint32_t bit;
    const char* text;
  } kGeneric[] = {{0x10000000, "GA"}, {0x20000000, "GX"}, {0x40000000, "GW"}, {0x80000000, "GR"}};
  uint32_t generic = 0;
  for (const auto& g : kGeneric) generic |= g.bit;
  if (mask != 0 && (mask & ~generic) == 0) {
    std::string out;
    for (const auto& g : kGeneric) {
      if (mask & g.bit) out += g.text;
    }
    return out;
  }
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%x", static_cast<unsigned>(mask));
  return hex;
}

}  // namespace

std::vector<std::string> DecodeMultiSz(std::span<const uint8_t> data) {
  std::vector<std::string> out;
  size_t start = 0;
  const size_t units = data.size() / 2;
  for (size_t i = 0; i <= units; ++i) {
    bool end = i == units || (data[2 * i] == 0 && data[2 * i + 1] == 0);
    if (!end) continue;
    if (i == start) break;  // the empty string that ends the list
    out.push_back(internal::Utf16LeToUtf8(data.subspan(2 * start, 2 * (i - start))));
    start = i + 1;
  }
  return out;
}

Expected<ListenOnlyList> DecodeListenOnlyList(uint32_t type, std::span<const uint8_t> data) {
  if (type != kRegMultiSz && type != kRegSz) {
    return Error{std::string(kListenOnlyListValue) + ": value type " + std::to_string(type) +
                 ", expected REG_MULTI_SZ (7)"};
  }
  ListenOnlyList out;
  for (const std::string& text : DecodeMultiSz(data)) {
    if (auto ip = ParseListEntry(text)) {
      out.entries.push_back({Canonical(*ip)});
    } else {
      ++out.skipped;
    }
  }
  return out;
}

Expected<std::string> SecurityDescriptorToSddl(std::span<const uint8_t> sd) {
  if (sd.size() < kSdHeaderSize) {
    return SdError(std::to_string(sd.size()) + " bytes, shorter than its header");
  }
  if (sd[0] != 1) return SdError("revision " + std::to_string(sd[0]) + ", expected 1");
  const uint16_t control = LoadU16(sd, 2);
  if (!(control & kSeSelfRelative)) return SdError("not self-relative");
  const uint32_t dacl = LoadU32(sd, kSdDaclOffsetField);
  if (!(control & kSeDaclPresent) || dacl == 0) return SdError("no DACL");
  if (dacl > sd.size() || sd.size() - dacl < kAclHeaderSize) {
    return SdError("DACL offset " + std::to_string(dacl) + " outside the descriptor");
  }
  const uint16_t acl_size = LoadU16(sd, dacl + 2);
  const uint16_t ace_count = LoadU16(sd, dacl + 4);
  if (acl_size < kAclHeaderSize || acl_size > sd.size() - dacl) {
    return SdError("DACL size " + std::to_string(acl_size) + " outside the descriptor");
  }
  std::span<const uint8_t> acl = sd.subspan(dacl, acl_size);
  std::string sddl = "D:";
  size_t at = kAclHeaderSize;
  for (uint16_t i = 0; i < ace_count; ++i) {
    if (acl.size() - at < kAceSidOffset) {
      return SdError("ACE " + std::to_string(i) + " of " + std::to_string(ace_count) +
                     " outside the DACL");
    }
    const uint8_t type = acl[at];
    const uint16_t size = LoadU16(acl, at + 2);
    if (size < kAceSidOffset + kSidHeaderSize || size > acl.size() - at) {
      return SdError("ACE " + std::to_string(i) + " has size " + std::to_string(size));
    }
    if (type != kAccessAllowedAceType && type != kAccessDeniedAceType) {
      return SdError("ACE type " + std::to_string(type) + ", expected allow (0) or deny (1)");
    }
    auto sid = SidString(acl.subspan(at + kAceSidOffset, size - kAceSidOffset));
    if (!sid) return sid.error();
    sddl += std::string("(") + (type == kAccessAllowedAceType ? "A" : "D") + ";" +
            AceFlags(acl[at + 1]) + ";" + Rights(LoadU32(acl, at + 4)) + ";;;" + *sid + ")";
    at += size;
  }
  return sddl;
}

Expected<UrlReservation> DecodeUrlAclValue(std::string_view url, uint32_t type,
                                           std::span<const uint8_t> data) {
  const std::string where = "UrlAclInfo \"" + std::string(url) + "\": ";
  std::string sddl;
  if (type == kRegBinary) {
    auto text = SecurityDescriptorToSddl(data);
    if (!text) return Error{where + text.error().message};
    sddl = std::move(*text);
  } else if (type == kRegSz) {
    auto strings = DecodeMultiSz(data);
    if (!strings.empty()) sddl = strings.front();
  } else {
    return Error{where + "value type " + std::to_string(type) + ", expected REG_BINARY (3)"};
  }
  auto principals = DecodeSddl(sddl);
  if (!principals) return Error{where + principals.error().message};
  return UrlReservation{std::string(url), std::move(sddl), std::move(*principals)};
}

}  // namespace portwarden::httpsys
