#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "collectors/common/expected.h"
#include "collectors/httpsys/collector.h"
#include "collectors/listeners/attribution.h"
#include "exporter/notifier/alerting_config.h"
#include "exporter/policy/expectations.h"

namespace portwarden {

/// The daemon's configuration file (YAML, --config.file). Every field has a default, so an
/// empty or absent file is a valid configuration.
struct Config {
  std::chrono::milliseconds collect_interval{5000};  ///< collect.interval
  /// collect.timeout: each collector's deadline per cycle; one that overruns is published
  /// as failed and the cycle goes on without it.
  std::chrono::milliseconds collect_timeout{10000};
  ListenerFilter listener_filter;                    ///< listeners.{include,exclude}_ports, max_series
  std::vector<policy::Expectation> expectations;     ///< expect: who should own which address:port
  std::optional<notifier::AlertingConfig> alerting;  ///< alerting: absent, no push
  httpsys::HttpSysOptions httpsys;                   ///< httpsys: (Windows) netsh_timeout
};

/// Parses a Prometheus-style duration ("500ms", "5s", "1m", "1h30m"); must be positive.
Expected<std::chrono::milliseconds> ParseDuration(std::string_view text);

/// Parses a comma-separated list of ports and ranges, e.g. "80,443,8000-8100".
Expected<std::vector<PortRange>> ParsePortList(std::string_view text);

/// Parses configuration text. Errors name file:line:column and what was expected.
Expected<Config> ParseConfig(std::string_view yaml, std::string_view file_name);

/// Reads and parses a configuration file.
Expected<Config> LoadConfig(const std::string& path);

}  // namespace portwarden
