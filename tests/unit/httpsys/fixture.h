#pragma once

#include <cstdint>
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

/// `utf8` as UTF-16LE after the byte order mark FF FE, as PowerShell 5's `>` saves a command's
/// output. `utf8` must be valid UTF-8 (the fixtures and the tests' strings are).
inline std::string WithUtf16LeBom(const std::string& utf8) {
  std::string out = "\xFF\xFE";
  auto unit = [&out](uint32_t u) {
    out += static_cast<char>(u & 0xFF);
    out += static_cast<char>(u >> 8);
  };
  for (size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    uint32_t code = length == 1 ? lead : lead & (0x3Fu >> (length - 1));
    for (size_t k = 1; k < length && i + k < utf8.size(); ++k) {
      code = (code << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3Fu);
    }
    i += length;
    if (code >= 0x10000) {
      unit(0xD800 + ((code - 0x10000) >> 10));
      unit(0xDC00 + ((code - 0x10000) & 0x3FF));
    } else {
      unit(code);
    }
  }
  return out;
}

}  // namespace portwarden::httpsys::testing
