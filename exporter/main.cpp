// portwarden: port ownership exporter. Entry point: commands and flags.
#include <cstdio>

#include "exporter/build_info.h"
#include "exporter/cli.h"
#include "exporter/commands.h"
#include "exporter/daemon.h"
#include "exporter/heap.h"
#include "exporter/logging.h"
#include "exporter/service.h"

int main(int argc, char** argv) {
  using namespace portwarden;
  ConfigureHeap();
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
  if (options->command == "snapshot") return SnapshotCommand(*options);
  if (options->command == "check") return CheckCommand(*options);
  if (options->command == "learn") return LearnCommand(*options);
  if (options->command == "check-config") return CheckConfigCommand(*options);
  if (options->command == "decode") return DecodeCommand(*options);
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
