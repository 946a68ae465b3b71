#include "exporter/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace portwarden {
namespace {

// Thrown only inside this file and caught by ParseConfig: carries a positioned message.
struct ConfigError {
  std::string message;
};

std::string Where(std::string_view file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  std::string where(file);
  if (mark.line >= 0) {
    where += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1);
  }
  return where;
}

[[noreturn]] void Fail(std::string_view file, const YAML::Node& node, const std::string& path,
                       const std::string& what) {
  throw ConfigError{Where(file, node) + ": " + path + ": " + what};
}

void CheckKeys(std::string_view file, const YAML::Node& map, const std::string& path,
               const std::set<std::string>& allowed) {
  if (!map.IsMap()) Fail(file, map, path, "expected a mapping");
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (!allowed.contains(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      Fail(file, kv.first, path.empty() ? key : path + "." + key,
           "unknown key (expected one of: " + list + ")");
    }
  }
}

uint16_t ParsePort(std::string_view file, const YAML::Node& node, const std::string& path,
                   std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 1 || value > 65535) {
    Fail(file, node, path, "invalid port \"" + std::string(text) + "\" (expected 1-65535)");
  }
  return static_cast<uint16_t>(value);
}

std::vector<PortRange> ParsePortList(std::string_view file, const YAML::Node& node,
                                     const std::string& path) {
  if (!node.IsSequence()) {
    Fail(file, node, path, "expected a list of ports or ranges like [80, \"8000-8100\"]");
  }
  std::vector<PortRange> ranges;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    if (!item.IsScalar()) Fail(file, item, item_path, "expected a port or a range \"A-B\"");
    const std::string text = item.Scalar();
    size_t dash = text.find('-');
    PortRange r;
    if (dash == std::string::npos) {
      r.first = r.last = ParsePort(file, item, item_path, text);
    } else {
      r.first = ParsePort(file, item, item_path, std::string_view(text).substr(0, dash));
      r.last = ParsePort(file, item, item_path, std::string_view(text).substr(dash + 1));
      if (r.first > r.last) Fail(file, item, item_path, "range \"" + text + "\" is reversed");
    }
    ranges.push_back(r);
  }
  return ranges;
}

}  // namespace

Expected<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  using std::chrono::milliseconds;
  const std::string bad = "invalid duration \"" + std::string(text) +
                          "\" (expected e.g. 500ms, 5s, 1m, 1h30m)";
  if (text.empty()) return Error{bad};
  milliseconds total{0};
  size_t i = 0;
  while (i < text.size()) {
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
    if (ec != std::errc() || value > 1'000'000'000) return Error{bad};
    i = static_cast<size_t>(ptr - text.data());
    size_t unit_start = i;
    while (i < text.size() && (text[i] < '0' || text[i] > '9')) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t ms;
    if (unit == "ms") ms = 1;
    else if (unit == "s") ms = 1000;
    else if (unit == "m") ms = 60'000;
    else if (unit == "h") ms = 3'600'000;
    else return Error{bad};
    total += milliseconds(static_cast<int64_t>(value) * ms);
  }
  if (total.count() <= 0) return Error{bad};
  return total;
}

Expected<Config> ParseConfig(std::string_view yaml, std::string_view file_name) {
  Config config;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (root.IsNull()) return config;
    CheckKeys(file_name, root, "", {"collect", "listeners"});
    if (YAML::Node collect = root["collect"]) {
      CheckKeys(file_name, collect, "collect", {"interval"});
      if (YAML::Node interval = collect["interval"]) {
        if (!interval.IsScalar()) Fail(file_name, interval, "collect.interval", "expected a duration");
        auto d = ParseDuration(interval.Scalar());
        if (!d) Fail(file_name, interval, "collect.interval", d.error().message);
        config.collect_interval = *d;
      }
    }
    if (YAML::Node listeners = root["listeners"]) {
      CheckKeys(file_name, listeners, "listeners", {"exclude_ports", "include_ports", "max_series"});
      ListenerFilter& f = config.listener_filter;
      if (YAML::Node n = listeners["include_ports"]) {
        f.include = ParsePortList(file_name, n, "listeners.include_ports");
      }
      if (YAML::Node n = listeners["exclude_ports"]) {
        f.exclude = ParsePortList(file_name, n, "listeners.exclude_ports");
      }
      if (YAML::Node n = listeners["max_series"]) {
        const std::string text = n.IsScalar() ? n.Scalar() : "";
        size_t value = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || ptr != text.data() + text.size() || value == 0) {
          Fail(file_name, n, "listeners.max_series", "expected a positive integer");
        }
        f.max_series = value;
      }
    }
  } catch (const ConfigError& e) {
    return Error{e.message};
  } catch (const YAML::Exception& e) {
    std::string where(file_name);
    if (e.mark.line >= 0) {
      where += ':' + std::to_string(e.mark.line + 1) + ':' + std::to_string(e.mark.column + 1);
    }
    return Error{where + ": invalid YAML: " + e.msg};
  }
  return config;
}

Expected<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open config file"};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace portwarden
