#include "collectors/listeners/socket_units.h"

#include <algorithm>
#include <optional>

#include "collectors/common/ip_address.h"
#include "collectors/common/text.h"
#include "collectors/listeners/address.h"

namespace portwarden {
namespace {

// "%%" is a literal '%'; any other specifier depends on the unit's instance or host, which
// a unit file alone does not tell: nullopt.
std::optional<std::string> ExpandPercent(std::string_view value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
    } else if (i + 1 < value.size() && value[i + 1] == '%') {
      out += '%';
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// A ListenStream=/ListenDatagram= value (systemd.socket(5)): a port alone, "IPv4:port" or
// "[IPv6]:port" (a zone allowed); AF_UNIX paths ('/', '@'), vsock: and the rest: nullopt.
std::optional<SocketUnitListen> ParseListen(Proto proto, std::string_view raw) {
  std::optional<std::string> value = ExpandPercent(raw);
  if (!value) return std::nullopt;
  std::string_view v = *value;
  if (auto port = ParsePort(v)) return SocketUnitListen{proto, "", *port};
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = v.substr(0, colon);
  auto port = ParsePort(v.substr(colon + 1));
  if (!port || host.empty()) return std::nullopt;
  const bool bracketed = host.front() == '[' && host.back() == ']';
  if (host.find(':') != std::string_view::npos && !bracketed) return std::nullopt;
  auto ip = ParseIpAddress(host);
  if (!ip) return std::nullopt;
  if (ip->v6 != bracketed) return std::nullopt;
  std::string address = ip->v6 ? FormatIpv6(ip->bytes.data()) : FormatIpv4(ip->bytes.data());
  return SocketUnitListen{proto, std::move(address), *port};
}

std::optional<bool> ParseBoolean(std::string_view v) {
  std::string lower = ToLowerAscii(v);
  for (const char* yes : {"1", "yes", "y", "true", "t", "on"}) {
    if (lower == yes) return true;
  }
  for (const char* no : {"0", "no", "n", "false", "f", "off"}) {
    if (lower == no) return false;
  }
  return std::nullopt;
}

// The logical lines of a unit file: comments dropped, '\'-continued lines joined by a space.
std::vector<std::string> LogicalLines(std::string_view text) {
  std::vector<std::string> lines;
  std::string pending;
  bool continued = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && (line.front() == '#' || line.front() == ';')) continue;
    if (!continued) pending.clear();
    bool more = !line.empty() && line.back() == '\\';
    if (more) line.remove_suffix(1);
    if (continued) pending += ' ';
    pending += line;
    continued = more;
    if (!more && !pending.empty()) lines.push_back(pending);
  }
  if (continued && !pending.empty()) lines.push_back(pending);
  return lines;
}

}  // namespace

SocketUnit ParseSocketUnit(std::string_view name, std::span<const std::string> texts) {
  SocketUnit unit;
  unit.name = std::string(name);
  std::string service;
  for (const std::string& text : texts) {
    bool in_socket = false;
    for (const std::string& line : LogicalLines(text)) {
      if (line.front() == '[') {
        in_socket = line == "[Socket]";
        continue;
      }
      size_t eq = line.find('=');
      if (!in_socket || eq == std::string::npos) continue;
      std::string_view key = Trim(std::string_view(line).substr(0, eq));
      std::string_view value = Trim(std::string_view(line).substr(eq + 1));
      if (key == "ListenStream" || key == "ListenDatagram") {
        if (value.empty()) {
          unit.listens.clear();
        } else if (auto listen = ParseListen(key == "ListenStream" ? Proto::kTcp : Proto::kUdp,
                                             value)) {
          unit.listens.push_back(std::move(*listen));
        }
      } else if (key == "Accept") {
        if (auto accept = ParseBoolean(value)) unit.accept = *accept;
      } else if (key == "Service") {
        if (value.empty() || value.ends_with(".service")) service = std::string(value);
      } else if (key.starts_with("Listen") && value.empty()) {
        unit.listens.clear();  // an empty Listen*= of any kind resets every listen
      }
    }
  }
  std::string_view stem = name.substr(0, name.rfind('.'));
  if (unit.accept) {
    unit.service = std::string(stem) + "@.service";  // systemd refuses Service= here
  } else {
    unit.service = service.empty() ? std::string(stem) + ".service" : service;
  }
  return unit;
}

const SocketUnit* MatchSocketUnit(const SocketUnitTable& table, const SocketEntry& socket) {
  const bool wildcard = socket.address == "::" || socket.address == "0.0.0.0";
  for (const SocketUnit& unit : table.units) {
    for (const SocketUnitListen& l : unit.listens) {
      if (l.proto == socket.proto && l.port == socket.port &&
          (l.address == socket.address || (l.address.empty() && wildcard))) {
        return &unit;
      }
    }
  }
  return nullptr;
}

}  // namespace portwarden
