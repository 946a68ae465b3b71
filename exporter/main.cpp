// portwarden: port ownership exporter. Entry point: flags, config, sampler, HTTP server.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "collectors/listeners/source.h"
#include "exporter/build_info.h"
#include "exporter/cli.h"
#include "exporter/collect.h"
#include "exporter/logging.h"
#include "exporter/report.h"
#include "exporter/sampler.h"
#include "exporter/web.h"

namespace portwarden {
namespace {

Expected<Config> LoadEffectiveConfig(const Options& options) {
  Config config;
  if (!options.config_file.empty()) {
    auto loaded = LoadConfig(options.config_file);
    if (!loaded) return loaded.error();
    config = std::move(*loaded);
  }
  if (options.collect_interval) config.collect_interval = *options.collect_interval;
  return config;
}

// Who holds the port we failed to bind, from one collection: "nginx (pid 812, user www-data)".
std::string DescribeHolder(const std::string& listen_address, const Config& config) {
  auto port_text = listen_address.substr(listen_address.rfind(':') + 1);
  unsigned port = std::strtoul(port_text.c_str(), nullptr, 10);
  auto source = MakeListenerSource({});
  Snapshot snap = CollectSnapshot(*source, config);
  for (const Listener& l : snap.listeners.listeners) {
    if (l.proto != Proto::kTcp || l.port != port) continue;
    if (l.owner.kind == OwnerKind::kUnknown) return "an unknown process (no permission to read it)";
    const Process& m = l.owner.main;
    return m.name + " (pid " + std::to_string(m.pid) + ", user " + m.user +
           (m.service.empty() ? "" : ", service " + m.service) + ") on " + l.address;
  }
  return "";
}

int PrintSnapshot(const Options& options, const Config& config) {
  auto source = MakeListenerSource({});
  Snapshot snap = CollectSnapshot(*source, config);
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

int Run(const Options& options, Config config) {
  auto log = ComponentLogger("main");
  // Signals are taken synchronously by this thread: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Sampler sampler(MakeListenerSource({}), config, ComponentLogger("sampler"));
  WebServer web(sampler, {options.listen_address, options.telemetry_path}, ComponentLogger("web"));
  auto bound = web.Start();
  if (!bound) {
    std::string holder = DescribeHolder(options.listen_address, config);
    std::string msg = "cannot listen on " + options.listen_address + ": " + bound.error().message;
    if (!holder.empty()) msg += "; the port is held by " + holder;
    Log(*log, spdlog::level::critical, msg);
    return 1;
  }
  sampler.Start();
  BuildInfo build = GetBuildInfo();
  Log(*log, spdlog::level::info, "portwarden started",
      {{"version", build.version}, {"address", *bound}, {"telemetry_path", options.telemetry_path}});

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != SIGHUP) {
      Log(*log, spdlog::level::info, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      break;
    }
    auto reloaded = LoadEffectiveConfig(options);
    if (!reloaded) {
      Log(*log, spdlog::level::err, "config reload failed; keeping the previous config",
          {{"err", reloaded.error().message}});
      continue;
    }
    sampler.SetConfig(std::move(*reloaded));
    Log(*log, spdlog::level::info, "config reloaded", {{"file", options.config_file}});
  }
  web.Stop();
  sampler.Stop();
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
  auto config = LoadEffectiveConfig(*options);
  if (!config) {
    std::fprintf(stderr, "portwarden: error: %s\n", config.error().message.c_str());
    return 1;
  }
  if (options->command == "snapshot") return PrintSnapshot(*options, *config);
  return Run(*options, std::move(*config));
}
