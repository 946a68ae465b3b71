#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <mutex>
#include <string>

#include "collectors/common/expected.h"
#include "exporter/bind_watcher.h"
#include "exporter/cli.h"
#include "exporter/config.h"
#include "exporter/notifier/notifier.h"
#include "exporter/sampler.h"
#include "exporter/web.h"

namespace portwarden {

/// Loads the configuration named by the flags (built-in defaults without --config.file);
/// flags override the file.
Expected<Config> LoadEffectiveConfig(const Options& options);

/// The running exporter: sampler, HTTP server and notifier (alerting:), and config reload.
/// Shared by the console run (all platforms) and the Windows service.
class Daemon {
 public:
  explicit Daemon(Options options);
  ~Daemon();

  /// Loads the config, binds the listen address, opens the alert queue, starts sampling. On a
  /// taken address the error names the process that holds it.
  Expected<std::string> Start();

  /// Re-reads the config file; a bad file is logged and the running config stays.
  /// Thread-safe (signal thread, HTTP handler, service control handler).
  Expected<bool> Reload();

  void Stop();

 private:
  Options options_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex reload_mu_;
  std::string own_url_;  ///< http://host:port the daemon serves on; default external URL
  std::unique_ptr<notifier::Notifier> notifier_;
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<BindWatcher> bind_watcher_;
  std::unique_ptr<WebServer> web_;
};

/// Runs the daemon in the foreground until a stop event; handles reload events.
/// Returns the process exit code.
int RunForeground(const Options& options);

}  // namespace portwarden
