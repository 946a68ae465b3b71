#include "exporter/build_info.h"

namespace portwarden {

BuildInfo GetBuildInfo() { return {PORTWARDEN_VERSION, PORTWARDEN_REVISION}; }

}  // namespace portwarden
