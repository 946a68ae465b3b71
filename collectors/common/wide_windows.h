#pragma once

// UTF-8 <-> UTF-16 for the Windows API, shared by every *_windows.cpp. Windows only.

#include <string>
#include <string_view>

namespace portwarden {

/// UTF-8 as the wide (UTF-16) text the W functions take.
std::wstring Wide(std::string_view utf8);

/// UTF-16 as UTF-8.
std::string Utf8(std::wstring_view wide);
/// A NUL-terminated UTF-16 string as UTF-8; null gives "".
std::string Utf8(const wchar_t* wide);

}  // namespace portwarden
