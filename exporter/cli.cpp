#include "exporter/cli.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "exporter/config.h"

namespace portwarden {
namespace {

bool TakesValue(std::string_view flag) {
  static constexpr std::string_view kValued[] = {
      "config.file", "web.listen-address", "web.telemetry-path", "collect.interval",
      "log.level",   "log.format",         "format"};
  for (auto f : kValued) {
    if (f == flag) return true;
  }
  return false;
}

}  // namespace

Expected<Options> ParseArgs(int argc, const char* const* argv) {
  Options o;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  size_t i = 0;
  if (i < args.size() && !args[i].starts_with("-")) {
    o.command = std::string(args[i++]);
    if (o.command != "run" && o.command != "snapshot" && o.command != "service") {
      return Error{"unknown command \"" + o.command + "\" (expected run, snapshot or service)"};
    }
    if (o.command == "service") {
      static constexpr std::string_view kActions[] = {"install", "uninstall", "start", "stop",
                                                      "run"};
      std::string_view action = i < args.size() ? args[i] : "";
      if (std::find(std::begin(kActions), std::end(kActions), action) == std::end(kActions)) {
        return Error{"service: expected an action: install, uninstall, start, stop or run"};
      }
      o.service_action = std::string(action);
      ++i;
    }
  }
  // Flags as given, so `service install` can hand them on to the service's command line.
  o.flags.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  for (; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      o.help = true;
      continue;
    }
    if (arg == "--version") {
      o.version = true;
      continue;
    }
    if (!arg.starts_with("--")) return Error{"unexpected argument \"" + std::string(arg) + "\""};
    std::string_view name = arg.substr(2);
    std::string value;
    size_t eq = name.find('=');
    if (eq != std::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
      if (!TakesValue(name)) return Error{"unknown flag --" + std::string(name)};
    } else {
      if (!TakesValue(name)) return Error{"unknown flag --" + std::string(name)};
      if (i + 1 >= args.size()) return Error{"flag --" + std::string(name) + " needs a value"};
      value = std::string(args[++i]);
    }
    if (name == "config.file") {
      o.config_file = value;
    } else if (name == "web.listen-address") {
      if (value.rfind(':') == std::string::npos) {
        return Error{"--web.listen-address: invalid value \"" + value +
                     "\" (expected [host]:port, e.g. :10061 or 127.0.0.1:10061)"};
      }
      o.listen_address = value;
    } else if (name == "web.telemetry-path") {
      if (!value.starts_with("/") || value == "/") {
        return Error{"--web.telemetry-path: invalid value \"" + value +
                     "\" (expected a path like /metrics)"};
      }
      o.telemetry_path = value;
    } else if (name == "collect.interval") {
      auto d = ParseDuration(value);
      if (!d) return Error{"--collect.interval: " + d.error().message};
      o.collect_interval = *d;
    } else if (name == "log.level") {
      o.log_level = value;
    } else if (name == "log.format") {
      o.log_format = value;
    } else if (name == "format") {
      if (value != "table" && value != "json") {
        return Error{"--format: invalid value \"" + value + "\" (expected table or json)"};
      }
      o.format = value;
    }
  }
  if (o.command != "snapshot" && o.format != "table") {
    return Error{"--format applies to the snapshot command only"};
  }
  return o;
}

std::string Usage() {
  return R"(usage: portwarden [command] [flags]

Port ownership exporter: who holds which address:port, sampled, as Prometheus metrics.

Commands:
  run        serve metrics and the status page (default)
  snapshot   collect once, print the listeners, exit
  service install|uninstall|start|stop
             manage the Windows service (install takes the flags the service runs with)

Flags:
  --config.file=PATH          YAML configuration file (default: built-in defaults)
  --web.listen-address=ADDR   address to serve on (default ":10061")
  --web.telemetry-path=PATH   path for metrics (default "/metrics")
  --collect.interval=DUR      sampling interval, overrides collect.interval (default 5s)
  --log.level=LEVEL           debug, info, warn, error (default info)
  --log.format=FORMAT         logfmt or json (default logfmt)
  --format=FORMAT             snapshot output: table or json (default table)
  --version                   print the version and exit
  -h, --help                  print this help and exit
)";
}

}  // namespace portwarden
