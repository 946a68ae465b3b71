#include "collectors/httpsys/netsh_text.h"

#include <algorithm>
#include <cstdint>
#include <span>

#include "collectors/httpsys/bytes.h"
#include "collectors/httpsys/netsh_parse.h"

namespace portwarden::httpsys::internal {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
// Enough of the offending text to recognize it in a log line, short enough for one.
constexpr size_t kQuoteLimit = 80;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

bool IsHexDigit(char c) { return HexValue(c) >= 0; }

}  // namespace

std::vector<TextLine> SplitLines(std::string_view text) {
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  std::vector<TextLine> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view raw = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);

    while (!raw.empty() && IsBlank(raw.back())) raw.remove_suffix(1);
    size_t indent = 0;
    while (indent < raw.size() && (raw[indent] == ' ' || raw[indent] == '\t')) ++indent;
    lines.push_back(TextLine{indent, raw.substr(indent)});
  }
  return lines;
}

std::optional<Error> CheckText(std::string_view text, std::string_view command) {
  // PowerShell 5 redirection writes UTF-16LE; the OS layer reads stdout bytes instead, so
  // UTF-16 here means a wrongly captured file rather than something to convert.
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF") ||
      text.substr(0, 256).find('\0') != std::string_view::npos) {
    return Error{std::string(command) +
                 ": input looks like UTF-16 (byte order mark or NUL bytes); expected UTF-8 "
                 "or ASCII text"};
  }
  for (const TextLine& line : SplitLines(text)) {
    if (!line.blank()) return std::nullopt;
  }
  return Error{std::string(command) + ": empty input; expected the command's output"};
}

Error Unrecognized(std::string_view command, std::string_view expected,
                   const std::vector<TextLine>& lines) {
  std::string_view first;
  for (const TextLine& line : lines) {
    if (!line.blank()) {
      first = line.content;
      break;
    }
  }
  std::string quote(first.substr(0, kQuoteLimit));
  if (first.size() > kQuoteLimit) quote += "...";
  return Error{std::string(command) + ": unrecognized output, expected " + std::string(expected) +
               "; text starts with \"" + quote + "\""};
}

std::optional<KeyValue> SplitKeyValue(std::string_view content) {
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] != ':') continue;
    if (i + 1 < content.size() && !IsBlank(content[i + 1])) continue;
    std::string_view key = Trim(content.substr(0, i));
    if (key.empty()) return std::nullopt;
    return KeyValue{key, Trim(content.substr(i + 1))};
  }
  return std::nullopt;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool IsSeparator(std::string_view content) {
  size_t dashes = 0;
  for (char c : content) {
    if (c == '-') {
      ++dashes;
    } else if (!IsBlank(c)) {
      return false;
    }
  }
  return dashes >= 3;
}

bool IsHex(std::string_view s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), IsHexDigit);
}

bool IsBracedGuid(std::string_view s) {
  if (s.size() != 38 || s.front() != '{' || s.back() != '}') return false;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    bool dash_position = i == 9 || i == 14 || i == 19 || i == 24;
    if (dash_position ? s[i] != '-' : !IsHexDigit(s[i])) return false;
  }
  return true;
}

bool HasHttpScheme(std::string_view s) {
  return StartsWithIgnoreCase(s, "http://") || StartsWithIgnoreCase(s, "https://");
}

bool IsHostName(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace portwarden::httpsys::internal

namespace portwarden::httpsys {

std::string CaptureToUtf8(std::string_view bytes) {
  constexpr std::string_view kUtf16LeBom = "\xFF\xFE";
  if (!bytes.starts_with(kUtf16LeBom)) return std::string(bytes);
  bytes.remove_prefix(kUtf16LeBom.size());
  return internal::Utf16LeToUtf8(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace portwarden::httpsys
