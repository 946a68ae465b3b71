#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "collectors/common/expected.h"

// The notifier's few OS calls, one file per platform (os_posix.cpp, os_windows.cpp). Paths
// are UTF-8.
namespace portwarden::notifier {

/// Replaces `path` so that a reader, or a restart after kill -9 or a power loss, finds
/// either the old content or the new one, never a mix: the data goes to `path`.tmp, is
/// flushed to disk, then renamed over `path` (and the directory flushed, on POSIX). One
/// writer per path.
Expected<bool> WriteFileAtomically(const std::string& path, std::string_view data);

/// The whole file, or nullopt if it does not exist.
Expected<std::optional<std::string>> ReadFileIfExists(const std::string& path);

/// Removes the file if it is there (a temporary file a killed writer left behind).
void RemoveFileIfExists(const std::string& path);

/// Creates the directories above `path` that do not exist yet.
Expected<bool> CreateParentDirectories(const std::string& path);

/// This machine's host name (POSIX gethostname, Windows' DNS host name); "localhost" if it
/// cannot be read.
std::string HostName();

/// Where the queue lives without `alerting.queue.path`: /var/lib/portwarden/alert-queue.json,
/// or %ProgramData%\portwarden\alert-queue.json on Windows.
std::string DefaultQueuePath();

}  // namespace portwarden::notifier
