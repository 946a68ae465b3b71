#include "collectors/httpsys/netsh_parse.h"

#include <algorithm>

#include "collectors/httpsys/netsh_text.h"

namespace portwarden::httpsys {
namespace {

using internal::KeyValue;
using internal::TextLine;

// A logical line: a TextLine with the console-wrapped rest of its value appended.
struct Entry {
  size_t indent = 0;
  std::string content;
};

// A reservation's lines as read, before validation.
struct RawReservation {
  std::string url;
  std::string sddl;
  std::vector<std::string> accounts;
};

// The value shape of an SDDL string: a part letter, a colon, and an ACE or an ACL flag.
bool IsSddlShaped(std::string_view value) {
  return value.size() >= 3 && (value[0] == 'D' || value[0] == 'O' || value[0] == 'G') &&
         value[1] == ':' && value.find('(') != std::string_view::npos;
}

bool IsYesNo(std::string_view value) {
  return internal::EqualsIgnoreCase(value, "Yes") || internal::EqualsIgnoreCase(value, "No");
}

// True if the value of `content` was visibly cut by the console's line wrap: an SDDL with an
// open ACE, or a URL without the '/' every HTTP.sys URL ends with.
bool LooksWrapped(std::string_view content) {
  std::optional<KeyValue> kv = internal::SplitKeyValue(content);
  if (!kv) return false;
  if (IsSddlShaped(kv->value)) {
    return std::count(kv->value.begin(), kv->value.end(), '(') >
           std::count(kv->value.begin(), kv->value.end(), ')');
  }
  return internal::HasHttpScheme(kv->value) && !kv->value.ends_with("/");
}

// Joins lines that the console wrapped at its width: the rest of a long SDDL or URL goes on
// at column 0. Only a line at column 0 that is not "label : value" is joined, and only to a
// value that is visibly cut, so a prompt pasted after the output stays apart.
std::vector<Entry> JoinWrapped(const std::vector<TextLine>& lines) {
  std::vector<Entry> entries;
  for (const TextLine& line : lines) {
    if (line.blank()) continue;
    bool continuation = line.indent == 0 && !entries.empty() &&
                        !internal::SplitKeyValue(line.content) &&
                        LooksWrapped(entries.back().content);
    if (continuation) {
      entries.back().content += line.content;
      continue;
    }
    entries.push_back(Entry{line.indent, std::string(line.content)});
  }
  return entries;
}

}  // namespace

Expected<UrlAclList> ParseUrlAcl(std::string_view text) {
  constexpr std::string_view kCommand = "netsh http show urlacl";
  if (std::optional<Error> error = internal::CheckText(text, kCommand)) return *error;
  std::vector<TextLine> lines = internal::SplitLines(text);

  std::vector<RawReservation> raw;
  bool saw_separator = false;
  size_t account_indent = 0;
  bool account_indent_known = false;
  for (const Entry& entry : JoinWrapped(lines)) {
    if (internal::IsSeparator(entry.content)) {
      saw_separator = true;
      continue;
    }
    std::optional<KeyValue> kv = internal::SplitKeyValue(entry.content);
    if (!kv) continue;
    if (internal::HasHttpScheme(kv->value)) {
      raw.push_back(RawReservation{std::string(kv->value), {}, {}});
      account_indent_known = false;
      continue;
    }
    if (raw.empty()) continue;
    RawReservation& current = raw.back();
    if (IsSddlShaped(kv->value)) {
      current.sddl = std::string(kv->value);
      continue;
    }
    // Accounts are the shallowest lines under the URL; their Yes/No rights sit deeper. A
    // paste that lost the indentation still tells rights apart by their Yes/No value.
    if (!account_indent_known) {
      account_indent = entry.indent;
      account_indent_known = true;
    }
    if (entry.indent <= account_indent && !IsYesNo(kv->value)) {
      current.accounts.push_back(std::string(kv->value));
    }
  }

  UrlAclList list;
  for (RawReservation& r : raw) {
    if (!ParseHttpSysUrl(r.url) || r.sddl.empty()) {
      ++list.skipped;
      continue;
    }
    Expected<std::vector<UrlAclPrincipal>> principals = DecodeSddl(r.sddl);
    if (!principals) {
      ++list.skipped;
      continue;
    }
    UrlReservation reservation{std::move(r.url), std::move(r.sddl), std::move(*principals)};
    if (r.accounts.size() == reservation.principals.size()) {
      for (size_t i = 0; i < r.accounts.size(); ++i) {
        reservation.principals[i].account = std::move(r.accounts[i]);
      }
    }
    list.reservations.push_back(std::move(reservation));
  }
  if (!saw_separator && raw.empty()) {
    return internal::Unrecognized(kCommand, "lines whose value is an http:// or https:// URL",
                                  lines);
  }
  return list;
}

}  // namespace portwarden::httpsys
