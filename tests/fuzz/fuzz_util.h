#pragma once

// Helpers shared by the fuzz targets: turning the input into text or a selector byte, and
// checking invariants. A violated invariant aborts, which libFuzzer reports as a crash and
// the corpus replay test as a failure.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "collectors/common/ip_address.h"
#include "collectors/listeners/listener.h"

namespace portwarden::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// True if `s` is `length` hex digits (lower-case only if `lower`). Written here rather
/// than taken from the parsers, whose output it checks.
inline bool IsHexDigits(std::string_view s, size_t length, bool lower) {
  if (s.size() != length) return false;
  for (char c : s) {
    const bool digit = c >= '0' && c <= '9';
    const bool low = c >= 'a' && c <= 'f';
    const bool up = c >= 'A' && c <= 'F';
    if (!digit && !low && !(up && !lower)) return false;
  }
  return true;
}

/// The `bytes`-byte little-endian number at `at` of `b`, read byte by byte (the decoders
/// read native order; every host portwarden runs on is little-endian).
inline uint64_t LoadLe(std::span<const uint8_t> b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | b[at + static_cast<size_t>(i)];
  return v;
}

/// Lines of `text` as a line-oriented parser can see them, CR, LF and CRLF breaks alike: an
/// upper bound on what it can skip.
inline int LineCount(std::string_view text) {
  int breaks = 0;
  for (char c : text) breaks += c == '\n' || c == '\r';
  return breaks + 1;
}

/// "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", hex digits of either case.
inline bool IsBracedGuid(std::string_view s) {
  if (s.size() != 38 || s.front() != '{' || s.back() != '}') return false;
  for (size_t start : {1u, 10u, 15u, 20u, 25u}) {
    const size_t length = start == 1 ? 8 : start == 25 ? 12 : 4;
    if (!IsHexDigits(s.substr(start, length), length, /*lower=*/false)) return false;
    if (start > 1 && s[start - 1] != '-') return false;
  }
  return true;
}

/// A config error names the file, then (when yaml-cpp gave a place) a line and column that
/// exist: "file:LINE:COLUMN: ..." with LINE within the text, or "file: ...".
inline bool NamesPlaceIn(std::string_view message, std::string_view file, std::string_view text) {
  if (!message.starts_with(file)) return false;
  message.remove_prefix(file.size());
  if (message.starts_with(": ")) return true;
  unsigned line = 0, column = 0;
  const std::string rest(message.substr(0, 32));
  if (std::sscanf(rest.c_str(), ":%u:%u:", &line, &column) != 2) return false;
  // yaml-cpp also breaks lines at U+0085, U+2028 and U+2029 (whose UTF-8 ends in 0x85, 0xA8
  // or 0xA9): counted too, so the bound holds whatever the text.
  int breaks = LineCount(text);
  for (char c : text) breaks += c == '\x85' || c == '\xa8' || c == '\xa9';
  return line >= 1 && static_cast<int>(line) <= breaks + 1 && column >= 1;
}

/// `parse(text, file)` for a YAML file; an error must name a place in it (NamesPlaceIn).
template <class Parse>
auto ParseYaml(Parse parse, std::string_view text, std::string_view file) {
  auto parsed = parse(text, file);
  if (!parsed && !NamesPlaceIn(parsed.error().message, file, text)) {
    std::fprintf(stderr, "error without a place in the file: %s\n", parsed.error().message.c_str());
    std::abort();
  }
  return parsed;
}

/// A decoded socket's address is an IP address of its family, without brackets.
inline bool IsSocketOfItsFamily(const SocketEntry& s) {
  const std::optional<IpAddress> address = ParseIpAddress(s.address);
  return address && address->v6 == (s.family == Family::kIpv6) &&
         s.address.find('[') == std::string::npos;
}

/// `address` is the text of `ip`, without brackets.
inline bool IsTextOf(const std::string& address, const IpAddress& ip) {
  return address.find('[') == std::string::npos && ParseIpAddress(address) == ip;
}

/// Splits off the first byte, which some targets use to pick a decoder variant.
inline uint8_t TakeSelector(const uint8_t*& data, size_t& size) {
  if (size == 0) return 0;
  uint8_t selector = data[0];
  ++data;
  --size;
  return selector;
}

}  // namespace portwarden::fuzz

#define PORTWARDEN_FUZZ_CHECK(cond)                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                           \
    }                                                                         \
  } while (0)
