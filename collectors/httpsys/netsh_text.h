#pragma once

// Line splitting and value-shape tests shared by the netsh parsers (internal to httpsys).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/common/text.h"

namespace portwarden::httpsys::internal {

/// One line of text: its indentation and its content with the line end and trailing blanks
/// removed. `content` views the caller's text.
struct TextLine {
  size_t indent = 0;
  std::string_view content;
  bool blank() const { return content.empty(); }
};

/// Splits `text` at LF, dropping a leading UTF-8 BOM, CRs and trailing blanks. Leading
/// spaces and tabs count one column each.
std::vector<TextLine> SplitLines(std::string_view text);

/// An Error if `text` cannot be netsh output in UTF-8: empty or blank, or UTF-16 (a BOM
/// FF FE / FE FF or NUL bytes). `command` names the netsh command in the message.
std::optional<Error> CheckText(std::string_view text, std::string_view command);

/// The Error for a text in which a parser found nothing: names the command, says what was
/// expected and quotes the first non-blank line.
Error Unrecognized(std::string_view command, std::string_view expected,
                   const std::vector<TextLine>& lines);

/// A "label : value" line, both sides trimmed.
struct KeyValue {
  std::string_view key;
  std::string_view value;
};

/// Splits at the first colon followed by a blank or the end of the line, so "IP:port  : x",
/// "C:\path" and "http://+:80/" are not split inside; nullopt if there is none or the label
/// is empty.
std::optional<KeyValue> SplitKeyValue(std::string_view content);

using ::portwarden::EqualsIgnoreCase;
using ::portwarden::ToLowerAscii;
using ::portwarden::Trim;
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

/// A line of dashes (at least 3) and blanks: the rule under a listing header.
bool IsSeparator(std::string_view content);
/// Exactly `length` hex digits.
bool IsHex(std::string_view s, size_t length);
/// "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" with hex digits.
bool IsBracedGuid(std::string_view s);
/// Starts with http:// or https://, any case.
bool HasHttpScheme(std::string_view s);
/// A DNS-style host name: letters, digits, '-', '.', '_' and non-ASCII bytes (IDN shown
/// as is), not empty.
bool IsHostName(std::string_view s);

}  // namespace portwarden::httpsys::internal
