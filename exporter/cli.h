#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/attribution.h"

namespace portwarden {

/// What `decode KIND FILE` reads: the saved output of `netsh http show iplisten|urlacl|sslcert|
/// servicestate`, `netsh int ipv4|ipv6 show excludedportrange` or `netstat -ano`.
inline constexpr std::string_view kDecodeKinds[] = {
    "iplisten", "urlacl", "sslcert", "servicestate", "excludedportrange", "netstat"};

/// The command line, parsed. Flags follow the Prometheus ecosystem's names.
struct Options {
  /// run | snapshot | check | learn | check-config | decode | service
  std::string command = "run";
  std::string service_action;   ///< service: install | configure | uninstall | start | stop | run
  std::string decode_kind;      ///< decode: one of kDecodeKinds
  std::string decode_file;      ///< decode: the saved command output to read
  std::vector<std::string> flags;  ///< the flags exactly as given on the command line
  std::string config_file;      ///< --config.file; empty: built-in defaults
  std::vector<std::string> listen_addresses;  ///< --web.listen-address, repeatable; default :10061
  std::chrono::milliseconds read_timeout{5000};  ///< --web.read-timeout
  int max_connections = 4096;                    ///< --web.max-connections
  std::string telemetry_path = "/metrics";
  std::string web_config_file;  ///< --web.config.file: TLS, basic auth, headers; empty: none
  std::optional<std::chrono::milliseconds> collect_interval;  ///< overrides the config file
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string format;  ///< snapshot: table | json; check: text | json (default the first)
  std::vector<PortRange> ports;  ///< learn --ports
  bool enable_lifecycle = false;  ///< --web.enable-lifecycle: POST /-/reload
  bool help = false;
  bool version = false;
};

/// Parses argv. An unknown command or flag, or a malformed value, is an Error naming it
/// (the caller prints it with the usage and exits 2).
Expected<Options> ParseArgs(int argc, const char* const* argv);

/// The --help text.
std::string Usage();

}  // namespace portwarden
