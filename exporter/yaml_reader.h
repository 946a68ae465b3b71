#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "collectors/common/expected.h"

namespace portwarden {

/// "file:line:column" of a YAML mark (made 1-based); just "file" without a mark.
std::string YamlPlace(std::string_view file_name, const YAML::Mark& mark);

/// How a node reads in an error message: the quoted scalar, "a list", "a mapping", "nothing".
std::string YamlDescribe(const YAML::Node& node);

/// Text in double quotes, for error messages.
std::string Quote(std::string_view text);

/// Reads typed values out of one parsed YAML file. Every failure is an Error of the form
/// "file:line:column: path: what was expected", the one shape of all config errors.
class YamlReader {
 public:
  explicit YamlReader(std::string_view file_name) : file_name_(file_name) {}

  std::string Where(const YAML::Node& node) const { return YamlPlace(file_name_, node.Mark()); }

  Error Fail(const YAML::Node& at, std::string_view path, std::string_view message) const;

  /// Checks that `map` is a mapping whose keys are all in `allowed`, each at most once.
  std::optional<Error> CheckKeys(const YAML::Node& map, std::string_view path,
                                 std::initializer_list<std::string_view> allowed,
                                 std::string_view expected_map) const;

  /// A non-empty scalar.
  Expected<std::string> ReadString(const YAML::Node& node, std::string_view path) const;

 private:
  std::string file_name_;
};

}  // namespace portwarden
