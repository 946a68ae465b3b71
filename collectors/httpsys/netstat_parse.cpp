#include "collectors/httpsys/netstat_parse.h"

#include <optional>

#include "collectors/common/ip_address.h"
#include "collectors/common/text.h"
#include "collectors/httpsys/netsh_text.h"

namespace portwarden::httpsys {
namespace {

using internal::TextLine;

constexpr std::string_view kCommand = "netstat -ano";
// Lines a console wraps one row into, beyond the first, at the most: two endpoints with the
// longest IPv6 addresses and zones make a row of about 140 columns, two wraps at 80.
constexpr size_t kMaxContinuations = 2;

// The blank-separated words of `s`, as views into it.
std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> words;
  for (size_t at = s.find_first_not_of(" \t"); at != std::string_view::npos;
       at = s.find_first_not_of(" \t", at)) {
    size_t end = s.find_first_of(" \t", at);
    words.push_back(s.substr(at, end - at));
    at = end;
  }
  return words;
}

// Protocol names are not localized; the IPv6 sockets print as TCP and UDP too.
std::optional<Proto> ProtoWord(std::string_view word) {
  if (internal::EqualsIgnoreCase(word, "TCP")) return Proto::kTcp;
  if (internal::EqualsIgnoreCase(word, "UDP")) return Proto::kUdp;
  return std::nullopt;
}

bool StartsRow(const TextLine& line) {
  return ProtoWord(line.content.substr(0, line.content.find_first_of(" \t"))).has_value();
}

// A port column: decimal digits up to 65535; 0 is printed for sockets without a port.
std::optional<uint16_t> PortNumber(std::string_view s) {
  std::optional<uint32_t> value = ParseU32(s);
  if (!value || *value > UINT16_MAX) return std::nullopt;
  return static_cast<uint16_t>(*value);
}

struct LocalEndpoint {
  Family family = Family::kIpv4;
  std::string_view address;  // without brackets
  uint16_t port = 0;
};

// The local column: IPv4:port or [IPv6]:port (with an optional %zone), numeric as -n prints.
std::optional<LocalEndpoint> ParseLocal(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = s.substr(0, colon);
  std::optional<uint16_t> port = PortNumber(s.substr(colon + 1));
  if (!port) return std::nullopt;
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  std::optional<IpAddress> ip = ParseIpAddress(host);
  if (!ip || ip->v6 != bracketed) return std::nullopt;
  return LocalEndpoint{bracketed ? Family::kIpv6 : Family::kIpv4, host, *port};
}

// The foreign column: like the local one, or `*:*` (UDP), a `*` port, or a host name (netstat
// without -n resolves remote addresses).
bool IsForeign(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = s.substr(0, colon);
  std::string_view port = s.substr(colon + 1);
  if (port != "*" && !PortNumber(port)) return false;
  if (host == "*") return true;
  if (host.starts_with('[')) {
    std::optional<IpAddress> ip = ParseIpAddress(host);
    return host.ends_with(']') && ip && ip->v6;
  }
  return ParseIpAddress(host).has_value() || internal::IsHostName(host);
}

// One row, `PROTO LOCAL FOREIGN [STATE] PID`: TCP rows have a state of one or more words,
// UDP rows none.
std::optional<NetstatRow> ParseRow(std::string_view text) {
  std::vector<std::string_view> words = Words(text);
  if (words.empty()) return std::nullopt;
  std::optional<Proto> proto = ProtoWord(words[0]);
  if (!proto) return std::nullopt;
  const bool tcp = *proto == Proto::kTcp;
  if (tcp ? words.size() < 5 : words.size() != 4) return std::nullopt;
  std::optional<LocalEndpoint> local = ParseLocal(words[1]);
  std::optional<uint32_t> pid = ParseU32(words.back());
  if (!local || !IsForeign(words[2]) || !pid) return std::nullopt;

  NetstatRow row;
  row.proto = *proto;
  row.family = local->family;
  row.address = std::string(local->address);
  row.port = local->port;
  row.foreign = std::string(words[2]);
  if (tcp) {
    // Everything between the foreign endpoint and the PID, inner blanks kept.
    const std::string_view last = words[words.size() - 2];
    row.state = std::string(words[3].data(),
                            static_cast<size_t>(last.data() + last.size() - words[3].data()));
  }
  row.pid = *pid;
  return row;
}

// The row starting at lines[first], joined with up to kMaxContinuations following lines that
// do not start a row themselves. The console's wrap cut the row at its width, maybe between
// two columns, and SplitLines dropped the blanks before the cut: so each continuation is
// tried appended as is and after one blank. The longest join that reads as a row wins (a PID
// cut in two reads as a row after its first part already), the unjoined row otherwise; `used`
// is set to the number of continuation lines taken.
std::optional<NetstatRow> ReadRow(const std::vector<TextLine>& lines, size_t first, size_t& used) {
  std::vector<std::string> candidates = {std::string(lines[first].content)};
  std::optional<NetstatRow> row = ParseRow(candidates.front());
  used = 0;
  for (size_t n = 1; n <= kMaxContinuations && first + n < lines.size(); ++n) {
    const TextLine& next = lines[first + n];
    if (next.blank() || StartsRow(next)) break;
    const std::string rest = std::string(next.indent, ' ') + std::string(next.content);
    std::vector<std::string> joined;
    for (const std::string& candidate : candidates) {
      joined.push_back(candidate + rest);
      joined.push_back(candidate + ' ' + rest);
    }
    candidates = std::move(joined);
    for (const std::string& candidate : candidates) {
      if (std::optional<NetstatRow> longer = ParseRow(candidate)) {
        row = std::move(longer);
        used = n;
        break;
      }
    }
  }
  return row;
}

}  // namespace

Expected<NetstatTable> ParseNetstat(std::string_view text) {
  if (std::optional<Error> error = internal::CheckText(text, kCommand)) return *error;
  std::vector<TextLine> lines = internal::SplitLines(text);

  NetstatTable table;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].blank() || !StartsRow(lines[i])) continue;
    size_t used = 0;
    if (std::optional<NetstatRow> row = ReadRow(lines, i, used)) {
      table.rows.push_back(std::move(*row));
      i += used;
    } else {
      ++table.skipped;
    }
  }
  if (table.rows.empty()) {
    return internal::Unrecognized(
        kCommand,
        "rows \"PROTO  LOCAL  FOREIGN  [STATE]  PID\" (TCP or UDP, IPv4:port or [IPv6]:port, "
        "the PID last: netstat -ano, not -an)",
        lines);
  }
  return table;
}

}  // namespace portwarden::httpsys
