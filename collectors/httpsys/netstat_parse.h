#pragma once

// Pure parser of Windows `netstat -ano` output: text in, values out, on every OS. It reads
// support captures from machines that cannot run portwarden (`portwarden decode netstat`),
// where "PID 4 holds port 80" is the first thing an admin pastes.
//
// netstat output is localized: the title, the header line ("Proto  Local Address ...",
// "Proto  Lokale Adresse ...") and the TCP states ("LISTENING", "ABHÖREN") change with the
// UI language, while protocol names, addresses, ports and PIDs do not. So a row is known by
// its shape alone: `PROTO  LOCAL  FOREIGN  [STATE]  PID`, where PROTO is TCP or UDP, LOCAL is
// IPv4:port or [IPv6]:port, FOREIGN the same or `*:*`, STATE (TCP rows only) whatever text
// stands between FOREIGN and the PID, and PID digits. Every other line (title, header,
// `-b` image and service lines) is passed over.
//
// Input as for the netsh parsers (netsh_parse.h): UTF-8 or ASCII, a UTF-8 BOM, CRLF or LF,
// trailing blanks and blank lines are accepted; UTF-16 text is an Error. No exception
// escapes (allocation failure aside), no read past the input. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/listener.h"

namespace portwarden::httpsys {

/// One socket row of `netstat -ano`.
struct NetstatRow {
  Proto proto = Proto::kTcp;
  Family family = Family::kIpv4;  ///< of the local address
  std::string address;  ///< local address as printed, without brackets: "0.0.0.0", "fe80::1%4"
  uint16_t port = 0;    ///< local port (0 for a socket not bound to one yet)
  std::string foreign;  ///< foreign endpoint as printed: "0.0.0.0:0", "[::]:0", "*:*"
  std::string state;    ///< TCP state as printed, localized ("LISTENING"); empty for UDP
  uint32_t pid = 0;
  bool operator==(const NetstatRow&) const = default;
};

/// Result of ParseNetstat.
struct NetstatTable {
  std::vector<NetstatRow> rows;  ///< in the order printed
  int skipped = 0;               ///< lines starting with TCP or UDP that are not a whole, valid row
};

/// Parses `netstat -ano` (also `-an -o -p tcp|udp|tcpv6|udpv6`, and `-b` whose extra lines
/// are passed over). A row that the console wrapped at its width, its rest on the next line
/// or two, is joined back: with the rest appended as is, or after a blank where the wrap ate
/// the one between two columns. Errors: UTF-16 or empty input, or no valid row at all (the
/// message quotes the start of the text and says what a row looks like).
Expected<NetstatTable> ParseNetstat(std::string_view text);

}  // namespace portwarden::httpsys
