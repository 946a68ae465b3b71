#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace portwarden::httpsys::testing {

/// Bytes of tests/fixtures/windows/<name>, unchanged (CRLF and BOM kept); empty if missing,
/// which the caller's content assertions then report.
inline std::string ReadWindowsFixture(const std::string& name) {
  std::ifstream in(std::string(PORTWARDEN_FIXTURES_DIR) + "/windows/" + name, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// `text` with every LF turned into CRLF, as netsh writes to a Windows console or pipe.
inline std::string WithCrlf(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

}  // namespace portwarden::httpsys::testing
