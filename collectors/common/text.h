#pragma once

#include <string_view>

namespace portwarden {

/// `s` without leading and trailing blanks (space, tab, CR, form feed, vertical tab).
std::string_view Trim(std::string_view s);

/// ASCII case-insensitive equality, as header names, tokens and netsh labels compare.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace portwarden
