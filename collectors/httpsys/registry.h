#pragma once

// Pure decoding of the HTTP service's registry configuration, which is what HTTP.sys reads
// when it starts (HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters):
//  - ListenOnlyList, REG_MULTI_SZ: the IP listen list (`netsh http add iplisten` writes it);
//  - UrlAclInfo\<url>, REG_BINARY: one value per URL reservation, named by the URL, holding a
//    self-relative SECURITY_DESCRIPTOR.
// Bytes in, values out; platform_windows.cpp only reads the values.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/httpsys/httpsys.h"

namespace portwarden::httpsys {

/// Key of the HTTP service parameters, under HKEY_LOCAL_MACHINE.
inline constexpr std::string_view kHttpParametersKey =
    "SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters";
/// Key holding one value per URL reservation, under HKEY_LOCAL_MACHINE.
inline constexpr std::string_view kUrlAclInfoKey =
    "SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters\\UrlAclInfo";
inline constexpr std::string_view kListenOnlyListValue = "ListenOnlyList";

/// Registry value types (winnt.h).
inline constexpr uint32_t kRegSz = 1;
inline constexpr uint32_t kRegBinary = 3;
inline constexpr uint32_t kRegMultiSz = 7;

/// Splits REG_MULTI_SZ data (UTF-16LE strings, each NUL-terminated, the list ended by an
/// empty string) into UTF-8 strings. Tolerates what RegSetValueEx lets through: a missing
/// final terminator or two, and an odd trailing byte. Empty strings inside end the list, as
/// they do for Windows' own readers. Pure; thread-safe.
std::vector<std::string> DecodeMultiSz(std::span<const uint8_t> data);

/// Result of DecodeListenOnlyList.
struct ListenOnlyList {
  std::vector<IpListenEntry> entries;  ///< canonical addresses, in registry order
  int skipped = 0;                     ///< strings that are not an IP address
};

/// Decodes the ListenOnlyList value: REG_MULTI_SZ (as netsh writes it) or REG_SZ (one
/// address). Each string is an IPv4 or IPv6 address, optionally bracketed and optionally
/// with a ":port" (ignored: the list is about addresses). Errors: another value type.
/// Pure; thread-safe.
Expected<ListenOnlyList> DecodeListenOnlyList(uint32_t type, std::span<const uint8_t> data);

/// The DACL of a self-relative SECURITY_DESCRIPTOR (winnt.h SECURITY_DESCRIPTOR_RELATIVE,
/// ACL, ACE_HEADER, ACCESS_ALLOWED_ACE, SID; "Security Descriptor String Format" for the
/// text) as SDDL, "D:(A;;GX;;;S-1-5-20)": every trustee as a SID string, generic rights as
/// GA/GX/GW/GR, other masks in hex, ACE flags as OI/CI/NP/IO/ID. Owner, group and SACL are
/// left out (URL ACLs use only the DACL). Errors: a short or non-self-relative descriptor,
/// no DACL, offsets or sizes outside the data, an ACE type other than allow/deny, a bad SID.
/// Pure; thread-safe.
Expected<std::string> SecurityDescriptorToSddl(std::span<const uint8_t> descriptor);

/// One value of the UrlAclInfo key as a reservation: REG_BINARY (a security descriptor, as
/// HTTP.sys stores it) or REG_SZ (SDDL text). Errors name the URL. Pure; thread-safe.
Expected<UrlReservation> DecodeUrlAclValue(std::string_view url, uint32_t type,
                                           std::span<const uint8_t> data);

}  // namespace portwarden::httpsys
