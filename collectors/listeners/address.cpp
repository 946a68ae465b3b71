#include "collectors/listeners/address.h"

#include <cstdio>

namespace portwarden {

std::string FormatIpv4(const uint8_t bytes[4]) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
  return buf;
}

std::string FormatIpv6(const uint8_t bytes[16]) {
  uint16_t words[8];
  for (int i = 0; i < 8; ++i) words[i] = static_cast<uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);

  // IPv4-mapped addresses keep the dotted tail, as inet_ntop prints them.
  bool mapped = words[0] == 0 && words[1] == 0 && words[2] == 0 && words[3] == 0 &&
                words[4] == 0 && words[5] == 0xffff;
  if (mapped) return "::ffff:" + FormatIpv4(bytes + 12);

  // RFC 5952: compress the longest run (length >= 2) of zero words, the first on ties.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len) { best_start = i; best_len = j - i; }
    i = j;
  }
  if (best_len < 2) best_start = -1;

  std::string out;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", words[i]);
    out += buf;
  }
  return out;
}

}  // namespace portwarden
