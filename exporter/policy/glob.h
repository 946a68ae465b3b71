#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portwarden::policy {

/// Glob patterns for owner matching: `*` (any run of characters, path separators included),
/// `?` (one character), `[abc]`, `[a-z]`, `[!a]` / `[^a]` (character sets).
/// There is no backslash escape, so Windows paths and account names ("C:\nginx\nginx.exe",
/// "NT AUTHORITY\SYSTEM") can be written verbatim; a literal `*`, `?` or `[` is written `[*]`.
/// Matching ignores ASCII case because Windows process, service and account names do.
///
/// Returns why `pattern` is not a valid glob, or nullopt when it is.
std::optional<std::string> GlobError(std::string_view pattern);

/// True if `text` matches the whole of `pattern`; an invalid pattern matches nothing.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace portwarden::policy
