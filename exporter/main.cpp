// portwarden: port ownership exporter. Entry point: commands and flags.
#include <cstdio>
#include <iostream>

#include "collectors/listeners/source.h"
#include "exporter/build_info.h"
#include "exporter/cli.h"
#include "exporter/collect.h"
#include "exporter/daemon.h"
#include "exporter/logging.h"
#include "exporter/report.h"
#include "exporter/service.h"

namespace portwarden {
namespace {

int PrintSnapshot(const Options& options) {
  auto config = LoadEffectiveConfig(options);
  if (!config) {
    std::fprintf(stderr, "portwarden: error: %s\n", config.error().message.c_str());
    return 1;
  }
  auto source = MakeListenerSource({});
  Snapshot snap = CollectSnapshot(*source, *config);
  if (options.format == "json") {
    std::cout << SnapshotJson(snap).dump(2) << "\n";
  } else {
    std::cout << SnapshotTable(snap);
  }
  for (const auto& c : snap.collectors) {
    if (!c.success) return 1;
  }
  return 0;
}

}  // namespace
}  // namespace portwarden

int main(int argc, char** argv) {
  using namespace portwarden;
  auto options = ParseArgs(argc, argv);
  if (!options) {
    std::fprintf(stderr, "portwarden: error: %s\n\n%s", options.error().message.c_str(),
                 Usage().c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (options->version) {
    BuildInfo b = GetBuildInfo();
    std::printf("portwarden, version %s (revision %s)\n", b.version, b.revision);
    return 0;
  }
  if (auto ok = InitLogging(options->log_level, options->log_format); !ok) {
    std::fprintf(stderr, "portwarden: error: %s\n", ok.error().message.c_str());
    return 2;
  }
  if (options->command == "snapshot") return PrintSnapshot(*options);
  if (options->command == "service") {
#ifdef _WIN32
    return RunServiceCommand(*options);
#else
    std::fprintf(stderr,
                 "portwarden: error: the service command manages the Windows service; on Linux "
                 "install packaging/portwarden.service with systemd\n");
    return 2;
#endif
  }
  return RunForeground(*options);
}
