#include "exporter/policy/glob.h"

namespace portwarden::policy {
namespace {

constexpr std::string_view::size_type kNpos = std::string_view::npos;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// Index just past the `]` closing the set that opens at pattern[open] == '[', or kNpos.
/// A `]` right after `[`, `[!` or `[^` is a member, as in POSIX, so `[]]` matches "]".
std::string_view::size_type SetEnd(std::string_view pattern, std::string_view::size_type open) {
  std::string_view::size_type i = open + 1;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) ++i;
  if (i < pattern.size() && pattern[i] == ']') ++i;
  const std::string_view::size_type close = pattern.find(']', i);
  return close == kNpos ? kNpos : close + 1;
}

/// Whether `c` is in the set pattern[open, end).
bool SetContains(std::string_view pattern, std::string_view::size_type open,
                 std::string_view::size_type end, char c) {
  std::string_view::size_type i = open + 1;
  const bool negated = pattern[i] == '!' || pattern[i] == '^';
  if (negated) ++i;
  const std::string_view::size_type last = end - 1;  // the closing ']'
  const char lc = Lower(c);
  bool found = false;
  while (i < last) {
    if (i + 2 < last && pattern[i + 1] == '-') {
      found = found || (Lower(pattern[i]) <= lc && lc <= Lower(pattern[i + 2]));
      i += 3;
    } else {
      found = found || Lower(pattern[i]) == lc;
      ++i;
    }
  }
  return found != negated;
}

}  // namespace

std::optional<std::string> GlobError(std::string_view pattern) {
  for (std::string_view::size_type i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '[') continue;
    const std::string_view::size_type end = SetEnd(pattern, i);
    if (end == kNpos) {
      return "unterminated \"[\" at offset " + std::to_string(i) + " (expected a closing \"]\")";
    }
    std::string_view::size_type j = i + 1;
    if (pattern[j] == '!' || pattern[j] == '^') ++j;
    // Same walk as SetContains, so only what it treats as a range is checked as one.
    while (j < end - 1) {
      if (j + 2 < end - 1 && pattern[j + 1] == '-') {
        if (Lower(pattern[j]) > Lower(pattern[j + 2])) {
          return "reversed range \"" + std::string(pattern.substr(j, 3)) + "\" (expected low-high)";
        }
        j += 3;
      } else {
        ++j;
      }
    }
    i = end - 1;
  }
  return std::nullopt;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  if (GlobError(pattern)) return false;
  // Greedy scan remembering the last `*`: on a mismatch, let that `*` swallow one more
  // character and retry. Linear in practice, never exponential.
  std::string_view::size_type p = 0;
  std::string_view::size_type t = 0;
  std::string_view::size_type star_p = kNpos;
  std::string_view::size_type star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (pc == '[') {
        const std::string_view::size_type end = SetEnd(pattern, p);
        if (SetContains(pattern, p, end, text[t])) {
          p = end;
          ++t;
          continue;
        }
      } else if (pc == '?' || Lower(pc) == Lower(text[t])) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == kNpos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace portwarden::policy
