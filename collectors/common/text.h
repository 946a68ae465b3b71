#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portwarden {

/// `s` without leading and trailing blanks (space, tab, CR, form feed, vertical tab).
std::string_view Trim(std::string_view s);

/// ASCII case-insensitive equality, as header names, tokens and netsh labels compare.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

/// `s` with ASCII letters in lower case.
std::string ToLowerAscii(std::string_view s);

/// The value of a hex digit (either case), or -1 if `c` is none.
int HexValue(char c);

/// Non-empty and decimal digits only.
bool IsDigits(std::string_view s);
/// Decimal digits only, no sign, no overflow.
std::optional<uint32_t> ParseU32(std::string_view s);
/// A port number 1-65535 in decimal digits.
std::optional<uint16_t> ParsePort(std::string_view s);

/// The whole content of a file, nullopt if it cannot be opened or read.
std::optional<std::string> ReadFile(const std::string& path);

}  // namespace portwarden
