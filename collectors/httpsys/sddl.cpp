// SDDL decoding for URL reservations. Grammar per "Security Descriptor String Format" and
// "ACE Strings" (Windows SDK docs): O:owner G:group D:dacl_flags(ace)... S:sacl_flags(ace)...,
// ace = (type;flags;rights;object_guid;inherit_object_guid;trustee).

#include "collectors/httpsys/httpsys.h"

#include <algorithm>
#include <array>
#include <string>

#include "collectors/common/text.h"
#include "collectors/httpsys/netsh_text.h"

namespace portwarden::httpsys {
namespace {

// Generic access bits (winnt.h), the only rights HTTP.sys checks on a reservation.
constexpr uint32_t kGenericAll = 0x10000000;
constexpr uint32_t kGenericExecute = 0x20000000;
constexpr uint32_t kGenericWrite = 0x40000000;

struct Alias {
  std::string_view alias;
  std::string_view sid;
};

// Well-known SID aliases that do not depend on a domain ("SID Strings", Windows SDK docs).
constexpr std::array<Alias, 33> kAliases{{
    {"AC", "S-1-15-2-1"},   {"AN", "S-1-5-7"},      {"AU", "S-1-5-11"},     {"BA", "S-1-5-32-544"},
    {"BG", "S-1-5-32-546"}, {"BO", "S-1-5-32-551"}, {"BU", "S-1-5-32-545"}, {"CG", "S-1-3-1"},
    {"CO", "S-1-3-0"},      {"ED", "S-1-5-9"},      {"HI", "S-1-16-12288"}, {"IS", "S-1-5-32-568"},
    {"IU", "S-1-5-4"},      {"LS", "S-1-5-19"},     {"LU", "S-1-5-32-559"}, {"LW", "S-1-16-4096"},
    {"ME", "S-1-16-8192"},  {"MU", "S-1-5-32-558"}, {"NO", "S-1-5-32-556"}, {"NS", "S-1-5-20"},
    {"NU", "S-1-5-2"},      {"OW", "S-1-3-4"},      {"PS", "S-1-5-10"},     {"PU", "S-1-5-32-547"},
    {"RC", "S-1-5-12"},     {"RD", "S-1-5-32-555"}, {"RE", "S-1-5-32-552"}, {"RU", "S-1-5-32-554"},
    {"SI", "S-1-16-16384"}, {"SO", "S-1-5-32-549"}, {"SU", "S-1-5-6"},      {"SY", "S-1-5-18"},
    {"WD", "S-1-1-0"},
}};

Error SddlError(std::string_view sddl, std::string_view what) {
  return Error{"SDDL \"" + std::string(sddl) + "\": " + std::string(what)};
}

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// "S-1-" followed by dash-separated decimal sub-authorities.
bool IsSidString(std::string_view s) {
  if (!s.starts_with("S-1-")) return false;
  s.remove_prefix(4);
  while (true) {
    size_t dash = s.find('-');
    if (!IsDigits(s.substr(0, dash))) return false;
    if (dash == std::string_view::npos) return true;
    s.remove_prefix(dash + 1);
  }
}

// Rights are either two-letter tokens ("GX", "GAGR") or a number ("0x20000000").
std::optional<uint32_t> GenericRights(std::string_view rights) {
  if (internal::StartsWithIgnoreCase(rights, "0x")) {
    std::string_view hex = rights.substr(2);
    if (hex.empty() || hex.size() > 8 || !internal::IsHex(hex, hex.size())) return std::nullopt;
    uint32_t mask = 0;
    for (char c : hex) {
      uint32_t digit = static_cast<uint32_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      mask = mask << 4 | digit;
    }
    return mask;
  }
  if (IsDigits(rights)) return ParseU32(rights);
  if (rights.size() % 2 != 0) return std::nullopt;
  uint32_t mask = 0;
  for (size_t i = 0; i < rights.size(); i += 2) {
    std::string_view token = rights.substr(i, 2);
    if (!IsUpper(token[0]) || !IsUpper(token[1])) return std::nullopt;
    if (token == "GA") mask |= kGenericAll;
    if (token == "GX") mask |= kGenericExecute;
    if (token == "GW") mask |= kGenericWrite;
  }
  return mask;
}

Expected<UrlAclPrincipal> DecodeAce(std::string_view sddl, std::string_view ace) {
  std::array<std::string_view, 6> fields;
  size_t count = 0;
  while (true) {
    size_t semicolon = ace.find(';');
    if (count == fields.size()) return SddlError(sddl, "ACE has more than 6 fields");
    fields[count++] = ace.substr(0, semicolon);
    if (semicolon == std::string_view::npos) break;
    ace.remove_prefix(semicolon + 1);
  }
  if (count != fields.size()) return SddlError(sddl, "ACE has fewer than 6 fields");
  if (fields[0] != "A") {
    return SddlError(sddl, "ACE type \"" + std::string(fields[0]) +
                               "\" is not supported, URL ACLs use allow (A) ACEs");
  }
  std::optional<uint32_t> mask = GenericRights(fields[2]);
  if (!mask) return SddlError(sddl, "bad rights \"" + std::string(fields[2]) + "\"");

  UrlAclPrincipal principal;
  principal.trustee = std::string(fields[5]);
  if (IsSidString(fields[5])) {
    principal.sid = principal.trustee;
  } else if (fields[5].size() == 2 && IsUpper(fields[5][0]) && IsUpper(fields[5][1])) {
    auto it = std::find_if(kAliases.begin(), kAliases.end(),
                           [&](const Alias& a) { return a.alias == fields[5]; });
    if (it != kAliases.end()) principal.sid = std::string(it->sid);
  } else {
    return SddlError(sddl, "bad trustee \"" + principal.trustee +
                               "\", expected a SID (S-1-...) or a two-letter alias");
  }
  principal.listen = (*mask & (kGenericAll | kGenericExecute)) != 0;
  principal.delegate = (*mask & (kGenericAll | kGenericWrite)) != 0;
  return principal;
}

}  // namespace

Expected<std::vector<UrlAclPrincipal>> DecodeSddl(std::string_view sddl) {
  const std::string_view whole = sddl;
  std::vector<UrlAclPrincipal> principals;
  bool has_dacl = false;
  sddl = internal::Trim(sddl);
  while (!sddl.empty()) {
    if (sddl.size() < 2 || sddl[1] != ':') return SddlError(whole, "expected O:, G:, D: or S:");
    char part = sddl[0];
    sddl.remove_prefix(2);
    if (part == 'O' || part == 'G') {
      // An owner or group SID runs up to the next "X:" part; SIDs hold no colon.
      size_t colon = sddl.find(':');
      if (colon == 0) return SddlError(whole, "empty owner or group");
      sddl.remove_prefix(colon == std::string_view::npos ? sddl.size() : colon - 1);
      continue;
    }
    if (part != 'D' && part != 'S') return SddlError(whole, "expected O:, G:, D: or S:");
    if (part == 'D') {
      if (has_dacl) return SddlError(whole, "more than one DACL");
      has_dacl = true;
    }
    // ACL flags ("P", "AI", "AR", "NO_ACCESS_CONTROL") precede the first ACE.
    while (!sddl.empty() && sddl.front() != '(' && !(sddl.size() >= 2 && sddl[1] == ':')) {
      sddl.remove_prefix(1);
    }
    while (sddl.starts_with("(")) {
      size_t close = sddl.find(')');
      if (close == std::string_view::npos) return SddlError(whole, "unterminated ACE");
      std::string_view ace = sddl.substr(1, close - 1);
      sddl.remove_prefix(close + 1);
      if (part == 'S') continue;  // audit ACEs grant nothing
      Expected<UrlAclPrincipal> principal = DecodeAce(whole, ace);
      if (!principal) return principal.error();
      principals.push_back(std::move(principal).value());
    }
  }
  if (!has_dacl) return SddlError(whole, "no DACL (D:), nothing grants access");
  return principals;
}

}  // namespace portwarden::httpsys
