#pragma once

// Helpers shared by the fuzz targets: turning the input into text or a selector byte, and
// checking invariants. A violated invariant aborts, which libFuzzer reports as a crash and
// the corpus replay test as a failure.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
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

/// A decoded socket's address is an IP address of its family, without brackets.
inline bool IsSocketOfItsFamily(const SocketEntry& s) {
  const std::optional<IpAddress> address = ParseIpAddress(s.address);
  return address && address->v6 == (s.family == Family::kIpv6) &&
         s.address.find('[') == std::string::npos;
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
