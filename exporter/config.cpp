#include "exporter/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "exporter/notifier/http_url.h"
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
    if (auto e = CheckKeys(root, "", {"collect", "listeners", "expect", "alerting", "httpsys"},
                           "a mapping")) {
      return *e;
    }
    if (YAML::Node collect = root["collect"]) {
      if (auto e = CheckKeys(collect, "collect", {"interval", "timeout"}, "a mapping")) return *e;
      for (auto [key, field] : {std::pair{"interval", &config.collect_interval},
                                std::pair{"timeout", &config.collect_timeout}}) {
        if (YAML::Node n = collect[key]) {
          auto d = ReadDuration(n, std::string("collect.") + key);
          if (!d) return d.error();
          *field = *d;
        }
      }
    }
    if (YAML::Node httpsys = root["httpsys"]) {
      if (auto e = CheckKeys(httpsys, "httpsys", {"netsh_timeout"}, "a mapping")) return *e;
      if (YAML::Node n = httpsys["netsh_timeout"]) {
        auto d = ReadDuration(n, "httpsys.netsh_timeout");
        if (!d) return d.error();
        config.httpsys.netsh_timeout = *d;
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
        auto value = ReadPositive(n, "listeners.max_series", 1'000'000);
        if (!value) return value.error();
        f.max_series = *value;
      }
    }
    if (YAML::Node alerting = root["alerting"]) {
      auto read = ReadAlerting(alerting);
      if (!read) return read.error();
      config.alerting = std::move(*read);
    }
    return config;
  }

 private:
  Expected<std::chrono::milliseconds> ReadDuration(const YAML::Node& node,
                                                   const std::string& path) const {
    auto text = ReadString(node, path);
    if (!text) return text.error();
    auto d = ParseDuration(*text);
    if (!d) return Fail(node, path, d.error().message);
    return *d;
  }

  Expected<size_t> ReadPositive(const YAML::Node& node, const std::string& path,
                                size_t max) const {
    const std::string text = node.IsScalar() ? node.Scalar() : "";
    size_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value == 0 || value > max) {
      return Fail(node, path, "expected an integer from 1 to " + std::to_string(max) + ", got " +
                                  YamlDescribe(node));
    }
    return value;
  }

  // A list of receiver URLs; `alertmanager` ones are base URLs (the API path is appended).
  Expected<std::vector<std::string>> ReadUrls(const YAML::Node& node, const std::string& path,
                                              bool alertmanager,
                                              std::set<std::string>& seen) const {
    if (!node.IsSequence()) {
      return Fail(node, path, "expected a list of http:// URLs, got " + YamlDescribe(node));
    }
    std::vector<std::string> urls;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      auto text = ReadString(node[i], item_path);
      if (!text) return text.error();
      auto url = alertmanager ? notifier::AlertmanagerAlertsUrl(*text) : notifier::ParseHttpUrl(*text);
      if (!url) return Fail(node[i], item_path, url.error().message);
      if (!seen.insert(*text).second) return Fail(node[i], item_path, "duplicate receiver URL");
      urls.push_back(*text);
    }
    return urls;
  }

  Expected<notifier::AlertingConfig> ReadAlerting(const YAML::Node& node) const {
    static const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
    notifier::AlertingConfig a;
    if (auto e = CheckKeys(node, "alerting",
                           {"alertmanagers", "webhooks", "labels", "external_url",
                            "resend_interval", "timeout", "backoff", "queue"},
                           "a mapping")) {
      return *e;
    }
    std::set<std::string> seen;
    if (YAML::Node n = node["alertmanagers"]) {
      auto urls = ReadUrls(n, "alerting.alertmanagers", true, seen);
      if (!urls) return urls.error();
      a.alertmanagers = std::move(*urls);
    }
    if (YAML::Node n = node["webhooks"]) {
      auto urls = ReadUrls(n, "alerting.webhooks", false, seen);
      if (!urls) return urls.error();
      a.webhooks = std::move(*urls);
    }
    if (a.alertmanagers.empty() && a.webhooks.empty()) {
      return Fail(node, "alerting", "expected at least one URL in alertmanagers or webhooks");
    }
    if (YAML::Node labels = node["labels"]) {
      if (!labels.IsMap()) {
        return Fail(labels, "alerting.labels",
                    "expected a mapping of label names to values, got " + YamlDescribe(labels));
      }
      for (const auto& item : labels) {
        const std::string name = item.first.IsScalar() ? item.first.Scalar() : "";
        const std::string path = "alerting.labels." + name;
        if (!std::regex_match(name, kLabelName) || name.starts_with("__")) {
          return Fail(item.first, "alerting.labels",
                      "invalid label name " + YamlDescribe(item.first) +
                          " (expected [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)");
        }
        for (const auto& reserved : notifier::kFindingLabels) {
          if (name == reserved) {
            return Fail(item.first, path, "reserved: every alert sets it from its finding");
          }
        }
        auto value = ReadString(item.second, path);
        if (!value) return value.error();
        if (!a.labels.emplace(name, *value).second) return Fail(item.first, path, "duplicate key");
      }
    }
    if (YAML::Node n = node["external_url"]) {
      auto text = ReadString(n, "alerting.external_url");
      if (!text) return text.error();
      if (!text->starts_with("http://") && !text->starts_with("https://")) {
        return Fail(n, "alerting.external_url",
                    "expected an http:// or https:// URL, got " + YamlDescribe(n));
      }
      a.external_url = *text;
    }
    for (auto [key, field] : {std::pair{"resend_interval", &a.resend_interval},
                              std::pair{"timeout", &a.timeout}}) {
      if (YAML::Node n = node[key]) {
        auto d = ReadDuration(n, std::string("alerting.") + key);
        if (!d) return d.error();
        *field = *d;
      }
    }
    if (YAML::Node backoff = node["backoff"]) {
      if (auto e = CheckKeys(backoff, "alerting.backoff", {"initial", "max"}, "a mapping")) {
        return *e;
      }
      for (auto [key, field] : {std::pair{"initial", &a.backoff_initial},
                                std::pair{"max", &a.backoff_max}}) {
        if (YAML::Node n = backoff[key]) {
          auto d = ReadDuration(n, std::string("alerting.backoff.") + key);
          if (!d) return d.error();
          *field = *d;
        }
      }
      if (a.backoff_initial > a.backoff_max) {
        return Fail(backoff, "alerting.backoff", "initial is longer than max");
      }
    }
    if (YAML::Node queue = node["queue"]) {
      if (auto e = CheckKeys(queue, "alerting.queue", {"path", "max_entries"}, "a mapping")) {
        return *e;
      }
      if (YAML::Node n = queue["path"]) {
        auto text = ReadString(n, "alerting.queue.path");
        if (!text) return text.error();
        a.queue_path = *text;
      }
      if (YAML::Node n = queue["max_entries"]) {
        auto value = ReadPositive(n, "alerting.queue.max_entries", 1'000'000);
        if (!value) return value.error();
        a.queue_max_entries = *value;
      }
    }
    return a;
  }

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
