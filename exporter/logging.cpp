#include "exporter/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdio>

namespace portwarden {
namespace {

bool g_json = false;
spdlog::sink_ptr g_sink;
spdlog::level::level_enum g_level = spdlog::level::info;
LogTap g_tap;

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// logfmt: bare when safe, otherwise quoted with the same escapes as JSON strings.
void AppendLogfmtValue(std::string& out, std::string_view s) {
  bool bare = !s.empty();
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) bare = false;
  }
  if (bare) {
    out += s;
  } else {
    AppendJsonString(out, s);
  }
}

// Level names as the Prometheus ecosystem writes them (spdlog says "warning", "critical").
class LevelFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view name;
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug: name = "debug"; break;
      case spdlog::level::info: name = "info"; break;
      case spdlog::level::warn: name = "warn"; break;
      default: name = "error"; break;
    }
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LevelFlag>();
  }
};

}  // namespace

Expected<bool> InitLogging(std::string_view level, std::string_view format,
                           const std::string& file) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (level != "off" && parsed == spdlog::level::off) {
    return Error{"--log.level: invalid value \"" + std::string(level) +
                 "\" (expected debug, info, warn or error)"};
  }
  if (format != "logfmt" && format != "json") {
    return Error{"--log.format: invalid value \"" + std::string(format) +
                 "\" (expected logfmt or json)"};
  }
  g_json = format == "json";
  g_level = parsed;
  if (file.empty()) {
    g_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      g_sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(file, 10 << 20, 3);
    } catch (const spdlog::spdlog_ex& e) {
      return Error{"cannot open log file " + file + ": " + e.what()};
    }
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc, "\n");
  formatter->add_flag<LevelFlag>('*').set_pattern(
      g_json ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%*","caller":"%n",%v})"
             : "ts=%Y-%m-%dT%H:%M:%S.%eZ level=%* caller=%n %v");
  g_sink->set_formatter(std::move(formatter));
  return true;
}

std::shared_ptr<spdlog::logger> ComponentLogger(const std::string& name) {
  if (!g_sink) InitLogging("info", "logfmt");
  auto logger = std::make_shared<spdlog::logger>(name, g_sink);
  logger->set_level(g_level);
  // Every line reaches the file at once: lines are few (transitions, not cycles), and a
  // service that is killed or crashes must not lose the last ones it wrote.
  logger->flush_on(spdlog::level::trace);
  return logger;
}

void SetLogTap(LogTap tap) { g_tap = std::move(tap); }

void Log(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
         std::initializer_list<LogField> fields) {
  if (!logger.should_log(level)) return;
  std::string line;
  if (g_json) {
    line += "\"msg\":";
    AppendJsonString(line, msg);
    for (const auto& [k, v] : fields) {
      line += ',';
      AppendJsonString(line, k);
      line += ':';
      AppendJsonString(line, v);
    }
  } else {
    line += "msg=";
    AppendLogfmtValue(line, msg);
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += k;
      line += '=';
      AppendLogfmtValue(line, v);
    }
  }
  logger.log(level, "{}", line);
  if (g_tap) g_tap(level, msg, line);
}

}  // namespace portwarden
