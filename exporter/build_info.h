#pragma once

namespace portwarden {

/// Version and source revision baked in at build time.
struct BuildInfo {
  const char* version;
  const char* revision;
};

BuildInfo GetBuildInfo();

}  // namespace portwarden
