#include "collectors/httpsys/netsh_parse.h"

#include "collectors/common/text.h"
#include "collectors/httpsys/netsh_text.h"

namespace portwarden::httpsys {
namespace {

using internal::TextLine;

// Splits a line into at most `max` blank-separated words; nullopt if it has more.
std::optional<std::vector<std::string_view>> Words(std::string_view s, size_t max) {
  std::vector<std::string_view> words;
  while (true) {
    s = internal::Trim(s);
    if (s.empty()) return words;
    if (words.size() == max) return std::nullopt;
    size_t end = s.find_first_of(" \t");
    words.push_back(s.substr(0, end));
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
}

}  // namespace

Expected<ExcludedPortRangeList> ParseExcludedPortRanges(std::string_view text) {
  constexpr std::string_view kCommand = "netsh int ip show excludedportrange";
  if (std::optional<Error> error = internal::CheckText(text, kCommand)) return *error;
  std::vector<TextLine> lines = internal::SplitLines(text);

  ExcludedPortRangeList list;
  bool saw_separator = false;
  bool in_listing = false;
  for (const TextLine& line : lines) {
    if (line.blank()) continue;
    if (internal::IsSeparator(line.content)) {
      list = ExcludedPortRangeList{};
      saw_separator = true;
      in_listing = true;
      continue;
    }
    // A row starts with a number; the footnote ("* - Administered port exclusions.") and
    // the localized headings do not.
    bool row_shaped = line.content.front() >= '0' && line.content.front() <= '9';
    if (!row_shaped) {
      if (saw_separator) in_listing = false;
      continue;
    }
    if (saw_separator && !in_listing) continue;

    std::optional<std::vector<std::string_view>> words = Words(line.content, 3);
    std::optional<uint16_t> start, end;
    bool administered = false;
    bool ok = words && words->size() >= 2;
    if (ok) {
      start = ParsePort((*words)[0]);
      end = ParsePort((*words)[1]);
      administered = words->size() == 3;
      ok = start && end && *start <= *end && (!administered || (*words)[2] == "*");
    }
    if (ok) {
      list.ranges.push_back({*start, *end, administered});
    } else if (saw_separator) {
      ++list.skipped;
    }
  }
  if (!saw_separator && list.ranges.empty()) {
    return internal::Unrecognized(kCommand, "a dashed separator line and rows of two port numbers",
                                  lines);
  }
  return list;
}

}  // namespace portwarden::httpsys
