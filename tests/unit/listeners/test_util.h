#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace portwarden::testing {

/// Contents of tests/fixtures/<relative>; empty if missing (the test then fails on content).
inline std::string ReadFixture(const std::string& relative) {
  std::ifstream in(std::string(PORTWARDEN_FIXTURES_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace portwarden::testing
