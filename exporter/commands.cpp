#include "exporter/commands.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>

#include "collectors/httpsys/netsh_parse.h"
#include "collectors/listeners/source.h"
#include "exporter/collect.h"
#include "exporter/daemon.h"
#include "exporter/report.h"

namespace portwarden {
namespace {

constexpr int kExitFindings = 1;
constexpr int kExitError = 2;

bool CollectorsOk(const Snapshot& snap) {
  for (const auto& c : snap.collectors) {
    if (!c.success) {
      std::fprintf(stderr, "portwarden: error: collector %s failed: %s\n", c.name.c_str(),
                   c.error.c_str());
      return false;
    }
  }
  return true;
}

// The whole content of `path`; an Error with the system's reason if it cannot be read.
Expected<std::string> ReadFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) return Error{path + ": cannot read: " + std::strerror(errno)};
  std::string bytes;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) bytes.append(buffer, n);
  if (std::ferror(file.get())) return Error{path + ": cannot read: " + std::strerror(errno)};
  return bytes;
}

std::string ListenText(const Listener& l) {
  std::string address = l.family == Family::kIpv6 ? "[" + l.address + "]" : l.address;
  return address + ":" + std::to_string(l.port) + "/" + std::string(ToString(l.proto));
}

}  // namespace

int SnapshotCommand(const Options& options) {
  auto config = LoadEffectiveConfig(options);
  if (!config) {
    std::fprintf(stderr, "portwarden: error: %s\n", config.error().message.c_str());
    return 1;
  }
  auto source = MakeListenerSource({});
  Snapshot snap = CollectSnapshot(*source, *config);
  if (options.format == "json") {
    std::cout << SnapshotJson(snap).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << SnapshotTable(snap);
  }
  return CollectorsOk(snap) ? 0 : 1;
}

int CheckCommand(const Options& options) {
  auto config = LoadEffectiveConfig(options);
  if (!config) {
    std::fprintf(stderr, "portwarden: error: %s\n", config.error().message.c_str());
    return kExitError;
  }
  auto source = MakeListenerSource({});
  Snapshot snap = CollectSnapshot(*source, *config);
  if (!CollectorsOk(snap)) return kExitError;
  policy::Evaluation evaluation =
      policy::Evaluate(snap.listeners->listeners, nullptr, config->expectations);
  if (options.format == "json") {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : evaluation.findings) findings.push_back(FindingJson(f));
    nlohmann::json expectations = nlohmann::json::array();
    for (const auto& e : evaluation.expectations) {
      expectations.push_back({{"rule", e.name}, {"satisfied", e.satisfied}});
    }
    std::cout << nlohmann::json{{"findings", findings}, {"expectations", expectations}}.dump(
                     2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << FindingsText(evaluation);
  }
  return evaluation.findings.empty() ? 0 : kExitFindings;
}

int LearnCommand(const Options& options) {
  Config config;  // learn describes what is there: no filters but --ports
  config.listener_filter.include = options.ports;
  auto source = MakeListenerSource({});
  Snapshot snap = CollectSnapshot(*source, config);
  if (!CollectorsOk(snap)) return kExitError;

  YAML::Emitter out;
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  out << YAML::Comment(std::string("Learned by `portwarden learn` at ") + when +
                       ": the owners of every listener then. Review, then use with "
                       "--config.file.");
  out << YAML::BeginMap << YAML::Key << "expect" << YAML::Value << YAML::BeginSeq;
  std::map<std::string, int> names;
  int skipped = 0;
  for (const Listener& l : snap.listeners->listeners) {
    if (l.owner.kind == OwnerKind::kUnknown) {
      ++skipped;
      continue;
    }
    const bool kernel = l.owner.kind != OwnerKind::kProcess;
    std::string name = (kernel ? std::string(ToString(l.owner.kind)) : l.owner.main().name) + "-" +
                       std::string(ToString(l.proto)) + "-" + std::to_string(l.port);
    if (int n = ++names[name]; n > 1) name += "-" + std::to_string(n);
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name;
    out << YAML::Key << "listen" << YAML::Value << ListenText(l);
    out << YAML::Key << "owner" << YAML::Value << YAML::BeginMap;
    if (kernel) {
      out << YAML::Key << "kind" << YAML::Value << std::string(ToString(l.owner.kind));
    } else {
      out << YAML::Key << "process" << YAML::Value << l.owner.main().name;
      if (!l.owner.service().empty()) {
        out << YAML::Key << "service" << YAML::Value << l.owner.service();
      }
    }
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  std::cout << out.c_str() << "\n";
  if (skipped > 0) {
    std::fprintf(stderr,
                 "portwarden: %d listener(s) with an unreadable owner left out (run as root to "
                 "see them)\n",
                 skipped);
  }
  return 0;
}

int CheckConfigCommand(const Options& options) {
  auto config = LoadConfig(options.config_file);
  if (!config) {
    std::fprintf(stderr, "portwarden: error: %s\n", config.error().message.c_str());
    return 1;
  }
  std::printf("%s: OK (%zu expectation(s))\n", options.config_file.c_str(),
              config->expectations.size());
  return 0;
}

int DecodeCommand(const Options& options) {
  Expected<std::string> bytes = ReadFile(options.decode_file);
  if (!bytes) {
    std::fprintf(stderr, "portwarden: error: %s\n", bytes.error().message.c_str());
    return 1;
  }
  Expected<nlohmann::json> records =
      DecodeJson(options.decode_kind, httpsys::CaptureToUtf8(*bytes));
  if (!records) {
    std::fprintf(stderr, "portwarden: error: %s: %s\n", options.decode_file.c_str(),
                 records.error().message.c_str());
    return 1;
  }
  nlohmann::json out = std::move(*records);
  out["kind"] = options.decode_kind;
  out["file"] = options.decode_file;
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

}  // namespace portwarden
