#include "exporter/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "exporter/yaml_reader.h"

namespace portwarden {
namespace {

Expected<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 1 || value > 65535) {
    return Error{"invalid port " + Quote(text) + " (expected 1-65535)"};
  }
  return static_cast<uint16_t>(value);
}

Expected<PortRange> ParseRange(std::string_view text) {
  size_t dash = text.find('-');
  auto first = ParsePort(text.substr(0, dash));
  if (!first) return first.error();
  if (dash == std::string_view::npos) return PortRange{*first, *first};
  auto last = ParsePort(text.substr(dash + 1));
  if (!last) return last.error();
  if (*first > *last) return Error{"range " + Quote(text) + " is reversed"};
  return PortRange{*first, *last};
}

class ConfigReader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  Expected<Config> Read(const YAML::Node& root) const {
    Config config;
    if (root.IsNull()) return config;
    if (auto e = CheckKeys(root, "", {"collect", "listeners", "expect"}, "a mapping")) return *e;
    if (YAML::Node collect = root["collect"]) {
      if (auto e = CheckKeys(collect, "collect", {"interval"}, "a mapping")) return *e;
      if (YAML::Node interval = collect["interval"]) {
        auto text = ReadString(interval, "collect.interval");
        if (!text) return text.error();
        auto d = ParseDuration(*text);
        if (!d) return Fail(interval, "collect.interval", d.error().message);
        config.collect_interval = *d;
      }
    }
    if (YAML::Node listeners = root["listeners"]) {
      if (auto e = CheckKeys(listeners, "listeners", {"include_ports", "exclude_ports", "max_series"},
                             "a mapping")) {
        return *e;
      }
      ListenerFilter& f = config.listener_filter;
      for (auto [key, ranges] : {std::pair{"include_ports", &f.include},
                                 std::pair{"exclude_ports", &f.exclude}}) {
        if (YAML::Node n = listeners[key]) {
          auto list = ReadPortList(n, std::string("listeners.") + key);
          if (!list) return list.error();
          *ranges = std::move(*list);
        }
      }
      if (YAML::Node n = listeners["max_series"]) {
        const std::string text = n.IsScalar() ? n.Scalar() : "";
        size_t value = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || ptr != text.data() + text.size() || value == 0) {
          return Fail(n, "listeners.max_series",
                      "expected a positive integer, got " + YamlDescribe(n));
        }
        f.max_series = value;
      }
    }
    return config;
  }

 private:
  Expected<std::vector<PortRange>> ReadPortList(const YAML::Node& node,
                                                const std::string& path) const {
    if (!node.IsSequence()) {
      return Fail(node, path, "expected a list of ports or ranges like [80, \"8000-8100\"], got " +
                                  YamlDescribe(node));
    }
    std::vector<PortRange> ranges;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      auto text = ReadString(node[i], item_path);
      if (!text) return text.error();
      auto range = ParseRange(*text);
      if (!range) return Fail(node[i], item_path, range.error().message);
      ranges.push_back(*range);
    }
    return ranges;
  }
};

}  // namespace

Expected<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  using std::chrono::milliseconds;
  const std::string bad = "invalid duration " + Quote(text) +
                          " (expected e.g. 500ms, 5s, 1m, 1h30m)";
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

Expected<std::vector<PortRange>> ParsePortList(std::string_view text) {
  std::vector<PortRange> ranges;
  while (true) {
    size_t comma = text.find(',');
    auto range = ParseRange(text.substr(0, comma));
    if (!range) return range.error();
    ranges.push_back(*range);
    if (comma == std::string_view::npos) return ranges;
    text.remove_prefix(comma + 1);
  }
}

Expected<Config> ParseConfig(std::string_view yaml, std::string_view file_name) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    auto config = ConfigReader(file_name).Read(root);
    if (!config) return config;
    auto expectations = policy::LoadExpectations(root["expect"], file_name);
    if (!expectations) return expectations.error();
    config->expectations = std::move(*expectations);
    return config;
  } catch (const YAML::Exception& e) {
    return Error{YamlPlace(file_name, e.mark) + ": invalid YAML: " + e.msg};
  }
}

Expected<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open config file"};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace portwarden
