#pragma once

#include "exporter/cli.h"

namespace portwarden {

/// `portwarden service install|uninstall|start|stop|run` (Windows only). `run` is what the
/// service manager starts: it registers with the SCM first, then loads the config and starts
/// the daemon, and maps stop/shutdown and SERVICE_CONTROL_PARAMCHANGE (reload) onto
/// ControlEvents. Returns the process exit code.
int RunServiceCommand(const Options& options);

}  // namespace portwarden
