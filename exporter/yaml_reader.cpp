#include "exporter/yaml_reader.h"

#include <set>

namespace portwarden {

std::string YamlPlace(std::string_view file_name, const YAML::Mark& mark) {
  if (mark.is_null()) return std::string(file_name);
  return std::string(file_name) + ":" + std::to_string(mark.line + 1) + ":" +
         std::to_string(mark.column + 1);
}

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string YamlDescribe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return Quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

Error YamlReader::Fail(const YAML::Node& at, std::string_view path,
                       std::string_view message) const {
  return Error{Where(at) + ": " + std::string(path) + ": " + std::string(message)};
}

std::optional<Error> YamlReader::CheckKeys(const YAML::Node& map, std::string_view path,
                                           std::initializer_list<std::string_view> allowed,
                                           std::string_view expected_map) const {
  if (!map.IsMap()) {
    return Fail(map, path, "expected " + std::string(expected_map) + ", got " + YamlDescribe(map));
  }
  std::string allowed_text;
  for (std::string_view key : allowed) {
    allowed_text += (allowed_text.empty() ? "" : ", ") + std::string(key);
  }
  std::set<std::string> seen;
  for (const auto& item : map) {
    const YAML::Node& key = item.first;
    if (!key.IsScalar()) {
      return Fail(key, path,
                  "expected a key (one of: " + allowed_text + "), got " + YamlDescribe(key));
    }
    const std::string key_path =
        path.empty() ? key.Scalar() : std::string(path) + "." + key.Scalar();
    bool known = false;
    for (std::string_view name : allowed) known = known || key.Scalar() == name;
    if (!known) return Fail(key, key_path, "unknown key (expected one of: " + allowed_text + ")");
    if (!seen.insert(key.Scalar()).second) return Fail(key, key_path, "duplicate key");
  }
  return std::nullopt;
}

Expected<std::string> YamlReader::ReadString(const YAML::Node& node, std::string_view path) const {
  if (!node.IsScalar()) return Fail(node, path, "expected a string, got " + YamlDescribe(node));
  if (node.Scalar().empty()) return Fail(node, path, "expected a non-empty string");
  return node.Scalar();
}

}  // namespace portwarden
