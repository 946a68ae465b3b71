#include "exporter/cli.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <vector>

#include "exporter/config.h"

namespace portwarden {
namespace {

constexpr std::string_view kCommands[] = {"run",          "snapshot", "check", "learn",
                                          "check-config", "decode",   "service"};
constexpr std::string_view kServiceActions[] = {"install",   "configure", "uninstall",
                                                "start",     "stop",      "run"};
constexpr std::string_view kValuedFlags[] = {"config.file", "web.listen-address",
                                             "web.telemetry-path", "web.config.file",
                                             "web.read-timeout", "web.max-connections",
                                             "collect.interval", "log.level", "log.format",
                                             "format", "ports"};

template <size_t N>
bool OneOf(std::string_view value, const std::string_view (&set)[N]) {
  return std::find(std::begin(set), std::end(set), value) != std::end(set);
}

// "iplisten, urlacl, ... or netstat", for messages.
std::string KindList() {
  std::string list;
  for (size_t k = 0; k < std::size(kDecodeKinds); ++k) {
    if (k > 0) list += k + 1 == std::size(kDecodeKinds) ? " or " : ", ";
    list += kDecodeKinds[k];
  }
  return list;
}

// Applies one --name=value flag; errors name the flag and what was expected.
Expected<bool> SetFlag(Options& o, std::string_view name, const std::string& value) {
  if (name == "config.file") {
    o.config_file = value;
  } else if (name == "web.listen-address") {
    if (value.rfind(':') == std::string::npos) {
      return Error{"--web.listen-address: invalid value \"" + value +
                   "\" (expected [host]:port, e.g. :10061 or 127.0.0.1:10061)"};
    }
    o.listen_addresses.push_back(value);
  } else if (name == "web.read-timeout") {
    auto d = ParseDuration(value);
    if (!d) return Error{"--web.read-timeout: " + d.error().message};
    o.read_timeout = *d;
  } else if (name == "web.max-connections") {
    char* end = nullptr;
    const long n = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n < 1 || n > 1000000) {
      return Error{"--web.max-connections: invalid value \"" + value +
                   "\" (expected a whole number from 1 to 1000000)"};
    }
    o.max_connections = int(n);
  } else if (name == "web.telemetry-path") {
    if (!value.starts_with("/") || value == "/") {
      return Error{"--web.telemetry-path: invalid value \"" + value +
                   "\" (expected a path like /metrics)"};
    }
    o.telemetry_path = value;
  } else if (name == "web.config.file") {
    o.web_config_file = value;
  } else if (name == "collect.interval") {
    auto d = ParseDuration(value);
    if (!d) return Error{"--collect.interval: " + d.error().message};
    o.collect_interval = *d;
  } else if (name == "log.level") {
    o.log_level = value;
  } else if (name == "log.format") {
    o.log_format = value;
  } else if (name == "format") {
    o.format = value;
  } else if (name == "ports") {
    auto ports = ParsePortList(value);
    if (!ports) return Error{"--ports: " + ports.error().message};
    o.ports = std::move(*ports);
  }
  return true;
}

}  // namespace

Expected<Options> ParseArgs(int argc, const char* const* argv) {
  Options o;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  size_t i = 0;
  if (i < args.size() && !args[i].starts_with("-")) {
    o.command = std::string(args[i++]);
    if (!OneOf(o.command, kCommands)) {
      return Error{"unknown command \"" + o.command +
                   "\" (expected run, snapshot, check, learn, check-config, decode or service)"};
    }
    if (o.command == "service") {
      if (i >= args.size() || !OneOf(args[i], kServiceActions)) {
        return Error{
            "service: expected an action: install, configure, uninstall, start, stop or run"};
      }
      o.service_action = std::string(args[i++]);
    }
    if (o.command == "check-config") {
      if (i >= args.size() || args[i].starts_with("-")) {
        return Error{"check-config: expected the config file to check"};
      }
      o.config_file = std::string(args[i++]);
    }
    if (o.command == "decode") {
      if (i >= args.size() || args[i].starts_with("-")) {
        return Error{"decode: expected a kind and a file (decode KIND FILE, KIND one of " +
                     KindList() + ")"};
      }
      o.decode_kind = std::string(args[i++]);
      if (!OneOf(o.decode_kind, kDecodeKinds)) {
        return Error{"decode: unknown kind \"" + o.decode_kind + "\" (expected " + KindList() +
                     ")"};
      }
      if (i >= args.size() || args[i].starts_with("-")) {
        return Error{"decode " + o.decode_kind + ": expected the file to decode"};
      }
      o.decode_file = std::string(args[i++]);
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
    if (arg == "--web.enable-lifecycle") {
      o.enable_lifecycle = true;
      continue;
    }
    if (!arg.starts_with("--")) return Error{"unexpected argument \"" + std::string(arg) + "\""};
    std::string_view name = arg.substr(2);
    std::string value;
    size_t eq = name.find('=');
    if (eq != std::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
    }
    if (!OneOf(name, kValuedFlags)) return Error{"unknown flag --" + std::string(name)};
    if (eq == std::string_view::npos) {
      if (i + 1 >= args.size()) return Error{"flag --" + std::string(name) + " needs a value"};
      value = std::string(args[++i]);
    }
    if (auto ok = SetFlag(o, name, value); !ok) return ok.error();
  }
  if (o.listen_addresses.empty()) o.listen_addresses.push_back(":10061");

  if (o.command == "snapshot" || o.command == "check") {
    const char* table = o.command == "snapshot" ? "table" : "text";
    if (o.format.empty()) o.format = table;
    if (o.format != table && o.format != "json") {
      return Error{"--format: invalid value \"" + o.format + "\" (expected " + table +
                   " or json)"};
    }
  } else if (!o.format.empty()) {
    return Error{"--format applies to the snapshot and check commands only"};
  }
  if (!o.ports.empty() && o.command != "learn") {
    return Error{"--ports applies to the learn command only"};
  }
  return o;
}

std::string Usage() {
  return R"(usage: portwarden [command] [flags]

Port ownership exporter: who holds which address:port, sampled, as Prometheus metrics,
compared with the owners you expect.

Commands:
  run                   serve metrics, the status page and the API (default)
  snapshot              collect once, print the listeners, exit
  check                 collect once, compare with the expectations, print a report;
                        exit 0 clean, 1 findings, 2 error (for cron or Nagios)
  learn                 print an expectations file describing the current owners
  check-config FILE     validate a config file and exit
  decode KIND FILE      print a saved netsh or netstat output as JSON; KIND: iplisten,
                        urlacl, sslcert, servicestate, excludedportrange or netstat
  service install|uninstall|start|stop
                        manage the Windows service (install takes the flags it runs with)
  service configure     set the installed service's description, delayed start and
                        restart on failure (what install sets; the MSI runs it)

Flags:
  --config.file=PATH          YAML configuration file (default: built-in defaults)
  --web.listen-address=ADDR   address to serve on, repeatable (default ":10061": every
                              address, IPv4 and IPv6; 0.0.0.0:PORT IPv4 only; [::1]:PORT)
  --web.read-timeout=DUR      time a client has to send its request head (default 5s)
  --web.max-connections=N     connections that may wait for their request head at once;
                              past it the oldest is closed (default 4096)
  --web.telemetry-path=PATH   path for metrics (default "/metrics")
  --web.enable-lifecycle      allow config reload through POST /-/reload
  --web.config.file=PATH      TLS, basic auth and headers, in the Prometheus
                              exporter-toolkit format (read at start-up)
  --collect.interval=DUR      sampling interval, overrides collect.interval (default 5s)
  --log.level=LEVEL           debug, info, warn, error (default info)
  --log.format=FORMAT         logfmt or json (default logfmt)
  --format=FORMAT             snapshot: table or json; check: text or json
  --ports=LIST                learn: only these ports, e.g. 80,443,8000-8100
  --version                   print the version and exit
  -h, --help                  print this help and exit
)";
}

}  // namespace portwarden
