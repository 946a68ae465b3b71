#include "collectors/listeners/proc_net.h"

#include <array>
#include <charconv>
#include <cstdint>

#include "collectors/listeners/address.h"

namespace portwarden {
namespace {

constexpr unsigned kTcpListen = 0x0A;  // TCP_LISTEN in include/net/tcp_states.h
constexpr unsigned kTcpClose = 0x07;   // TCP_CLOSE: how unconnected UDP sockets show

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

template <typename T>
bool ParseHex(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc() && ptr == text.data() + text.size();
}

template <typename T>
bool ParseDec(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 10);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// "0100007F:1F90" -> address bytes (network order) and port.
bool ParseEndpoint(std::string_view text, Family family, std::array<uint8_t, 16>& addr,
                   uint16_t& port) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view hex = text.substr(0, colon);
  size_t words = family == Family::kIpv4 ? 1 : 4;
  if (hex.size() != words * 8) return false;
  for (size_t w = 0; w < words; ++w) {
    uint32_t word = 0;
    if (!ParseHex(hex.substr(w * 8, 8), word)) return false;
    // The kernel printed a network-order word read as a little-endian integer.
    for (int b = 0; b < 4; ++b) addr[w * 4 + b] = static_cast<uint8_t>(word >> (8 * b));
  }
  std::string_view port_hex = text.substr(colon + 1);
  return port_hex.size() == 4 && ParseHex(port_hex, port);
}

}  // namespace

Expected<ProcNetTable> ParseProcNet(std::string_view text, Proto proto, Family family) {
  size_t eol = text.find('\n');
  std::string_view header = text.substr(0, eol);
  if (header.find("local_address") == std::string_view::npos ||
      header.find("inode") == std::string_view::npos) {
    return Error{"not a /proc/net socket table: header lacks local_address/inode columns"};
  }
  ProcNetTable table;
  const unsigned wanted_state = proto == Proto::kTcp ? kTcpListen : kTcpClose;
  while (eol != std::string_view::npos && eol + 1 < text.size()) {
    size_t start = eol + 1;
    eol = text.find('\n', start);
    std::string_view line = text.substr(start, eol == std::string_view::npos ? eol : eol - start);
    auto f = SplitFields(line);
    if (f.empty()) continue;
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    std::array<uint8_t, 16> addr{};
    uint16_t port = 0;
    unsigned state = 0;
    SocketEntry entry;
    if (f.size() < 10 || f[0].back() != ':' || !ParseEndpoint(f[1], family, addr, port) ||
        !ParseHex(f[3], state) || !ParseDec(f[7], entry.uid) || !ParseDec(f[9], entry.inode)) {
      ++table.skipped;
      continue;
    }
    if (state != wanted_state || port == 0) continue;
    entry.proto = proto;
    entry.family = family;
    entry.port = port;
    entry.address = family == Family::kIpv4 ? FormatIpv4(addr.data()) : FormatIpv6(addr.data());
    table.sockets.push_back(std::move(entry));
  }
  return table;
}

}  // namespace portwarden
