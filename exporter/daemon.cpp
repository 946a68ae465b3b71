#include "exporter/daemon.h"

#include "exporter/build_info.h"
#include "exporter/collect.h"
#include "exporter/lifecycle.h"
#include "exporter/logging.h"
#include "exporter/notifier/os.h"

namespace portwarden {
namespace {

// Who holds the port we failed to bind, from one collection: "nginx (pid 812, user www-data)".
std::string DescribeHolder(const std::string& listen_address, const Config& config) {
  unsigned port = std::strtoul(listen_address.substr(listen_address.rfind(':') + 1).c_str(),
                               nullptr, 10);
  auto source = MakeListenerSource({});
  Snapshot snap = CollectSnapshot(*source, config);
  for (const Listener& l : snap.listeners->listeners) {
    if (l.proto != Proto::kTcp || l.port != port) continue;
    if (l.owner.kind == OwnerKind::kUnknown) return "an unknown process (no permission to read it)";
    const Process& m = l.owner.main();
    const std::string& service = l.owner.service();
    return m.name + " (pid " + std::to_string(m.pid) + ", user " + m.user +
           (service.empty() ? "" : ", service " + service) + ") on " + l.address;
  }
  return "";
}

// How others reach this daemon, from the bound "host:port": a wildcard or empty host is
// replaced by this machine's name.
std::string OwnUrl(const std::string& bound) {
  const size_t colon = bound.rfind(':');
  std::string host = bound.substr(0, colon);
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") {
    host = notifier::HostName();
  }
  return "http://" + host + bound.substr(colon);
}

}  // namespace

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

Daemon::Daemon(Options options) : options_(std::move(options)), log_(ComponentLogger("main")) {}

Daemon::~Daemon() { Stop(); }

Expected<std::string> Daemon::Start() {
  auto config = LoadEffectiveConfig(options_);
  if (!config) return config.error();
  notifier_ = std::make_unique<notifier::Notifier>(ComponentLogger("notifier"));
  sampler_ = std::make_unique<Sampler>(
      std::make_unique<Collectors>(MakeListenerSource({})), *config, ComponentLogger("sampler"),
      [notifier = notifier_.get()](const Snapshot& snap) {
        notifier->Observe(snap.policy.active, snap.timestamp);
      });
  WebOptions web_options{options_.listen_addresses, options_.read_timeout,
                         options_.max_connections, options_.telemetry_path, nullptr,
                         options_.web_config_file, {notifier_.get()}};
  if (options_.enable_lifecycle) web_options.reload = [this] { return Reload(); };
  web_ = std::make_unique<WebServer>(*sampler_, std::move(web_options), ComponentLogger("web"));
  // Each waiting connection holds a descriptor; collectors and the queue file need some too.
  const unsigned long descriptors = RaiseDescriptorLimit();
  if (descriptors != 0 && descriptors < static_cast<unsigned long>(options_.max_connections) + 64) {
    Log(*log_, spdlog::level::warn,
        "the descriptor limit is below --web.max-connections; when descriptors run out, the "
        "oldest waiting connection is closed",
        {{"limit", std::to_string(descriptors)},
         {"max_connections", std::to_string(options_.max_connections)}});
  }
  auto bound = web_->Start();
  if (!bound) {
    std::string msg = bound.error().message;
    if (msg.find("address already in use") != std::string::npos) {
      for (const std::string& address : options_.listen_addresses) {
        std::string holder = DescribeHolder(address, *config);
        if (!holder.empty() && msg.find(address + ":") != std::string::npos) {
          msg += "; the port is held by " + holder;
          break;
        }
      }
    }
    return Error{msg};
  }
  std::string addresses;
  for (const std::string& address : *bound) addresses += (addresses.empty() ? "" : ",") + address;
  own_url_ = OwnUrl(bound->front());
  if (auto alerting = notifier_->Configure(config->alerting, own_url_); !alerting) {
    web_->Stop();
    return Error{options_.config_file + ": " + alerting.error().message};
  }
  bind_watcher_ = std::make_unique<BindWatcher>(*sampler_, ComponentLogger("bindwatch"));
  bind_watcher_->Start();
  sampler_->Start();
  BuildInfo build = GetBuildInfo();
  Log(*log_, spdlog::level::info, "portwarden started",
      {{"version", build.version}, {"address", addresses}, {"telemetry_path", options_.telemetry_path}});
  return bound->front();
}

Expected<bool> Daemon::Reload() {
  std::lock_guard lock(reload_mu_);
  auto config = LoadEffectiveConfig(options_);
  if (!config) {
    sampler_->ReloadFailed();
    Log(*log_, spdlog::level::err, "config reload failed; keeping the previous config",
        {{"err", config.error().message}});
    return config.error();
  }
  if (auto alerting = notifier_->Configure(config->alerting, own_url_); !alerting) {
    sampler_->ReloadFailed();
    Log(*log_, spdlog::level::err, "config reload failed; keeping the previous config",
        {{"err", alerting.error().message}});
    return alerting.error();
  }
  sampler_->SetConfig(std::move(*config));
  Log(*log_, spdlog::level::info, "config reloaded", {{"file", options_.config_file}});
  return true;
}

void Daemon::Stop() {
  if (web_) web_->Stop();
  if (bind_watcher_) bind_watcher_->Stop();
  if (sampler_) sampler_->Stop();
  if (notifier_) notifier_->Stop();
}

int RunForeground(const Options& options) {
  ControlEvents::Install();
  Daemon daemon(options);
  auto started = daemon.Start();
  if (!started) {
    Log(*ComponentLogger("main"), spdlog::level::critical, started.error().message);
    return 1;
  }
  while (ControlEvents::Wait() == ControlEvent::kReload) daemon.Reload();
  Log(*ComponentLogger("main"), spdlog::level::info, "shutting down");
  daemon.Stop();
  return 0;
}

}  // namespace portwarden
