#pragma once

// Pure parsers of `netsh` output: text in, values out, on every OS.
//
// netsh output is localized: labels ("Reserved URL", "URL prenotati"), some values ("Request
// queue is unnamed.") and account names change with the UI language, while URLs, SDDL, IDs,
// hashes, GUIDs and Yes/No do not. So the parsers recognize lines by the shape of their value
// (a URL starts with http:// or https://, a PID is digits, a hash is 40 hex digits, a GUID
// has braces) and by indentation and "label : value" structure, never by the English label.
//
// Common to all parsers:
//  - Input is the command's stdout as UTF-8 or ASCII; a UTF-8 BOM, CRLF or LF line ends,
//    trailing blanks and extra blank lines are accepted. UTF-16 text is an Error.
//  - A malformed record is skipped and counted in the result's `skipped`; text with nothing
//    the parser recognizes (no listing header separator and no record) is an Error saying
//    what was expected and quoting the start of the text.
//  - No exception escapes (allocation failure aside), no read past the input. Thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/httpsys/httpsys.h"

namespace portwarden::httpsys {

/// A saved command output (a file a user sends) as the parsers take it: UTF-16LE text with its
/// byte order mark FF FE, as PowerShell 5's `>` and Out-File write it, converted to UTF-8
/// without the mark; anything else returned unchanged. The parsers themselves reject UTF-16
/// (see above), so a wrongly captured pipe is an Error rather than converted silently; only
/// code that reads files converts, once, here. Pure; thread-safe.
std::string CaptureToUtf8(std::string_view bytes);

/// Result of ParseIpListen.
struct IpListenList {
  std::vector<IpListenEntry> entries;
  int skipped = 0;  ///< indented lines in the listing that are not an IP address
};

/// Result of ParseUrlAcl.
struct UrlAclList {
  std::vector<UrlReservation> reservations;
  int skipped = 0;  ///< reservations with a bad URL, or a missing or undecodable SDDL
};

/// Result of ParseSslCert.
struct SslCertList {
  std::vector<TlsBinding> bindings;
  int skipped = 0;  ///< bindings with a bad endpoint, or without certificate hash or app ID
};

/// Result of ParseServiceState.
struct ServiceState {
  std::vector<RequestQueue> queues;
  std::vector<UrlGroup> url_groups;
  int skipped = 0;  ///< unreadable process lines and registered URLs
};

/// Result of ParseExcludedPortRanges.
struct ExcludedPortRangeList {
  std::vector<ExcludedPortRange> ranges;
  int skipped = 0;  ///< rows with a bad number, a port outside 1-65535, or start > end
};

/// Parses `netsh http show iplisten`: the address lines under the dashed separator. A text
/// holding several listings (a console paste of repeated commands) yields the last one.
/// Without any separator, lines that are an IP address are taken as entries.
Expected<IpListenList> ParseIpListen(std::string_view text);

/// Parses `netsh http show urlacl`. A reservation starts at a "label : value" line whose value
/// is an http:// or https:// URL; the less-indented lines under it name accounts, the deeper
/// ones their Yes/No rights, and the SDDL line is known by its shape ("D:(...").
/// Principals come from the SDDL (authoritative); accounts are attached to them by position
/// when the text names as many accounts as the SDDL has ACEs. A console-wrapped line (its
/// rest at column 0) is joined back. A reservation without SDDL, as in a paste cut short, is
/// skipped.
Expected<UrlAclList> ParseUrlAcl(std::string_view text);

/// Parses `netsh http show sslcert`, all three binding kinds. A binding starts at a line whose
/// value is host:port ([IPv6]:port, IPv4:port, hostname:port) or, first in a paragraph, a bare
/// port (CCS). Its hash is the 40-hex value, its app ID the braced GUID, its store the line
/// after the app ID (fixed order since Windows Vista); the rest become `options`.
Expected<SslCertList> ParseSslCert(std::string_view text);

/// Parses `netsh http show servicestate`, both `view=session` (the default) and
/// `view=requestq`, with either process list format: "Process IDs:" with bare PIDs (older
/// builds) or "Processes:" with "ID: <pid>, image: <path>" and service lines (newer). See
/// README.md for how queues, URL groups and the controller PID are recognized.
Expected<ServiceState> ParseServiceState(std::string_view text);

/// Parses `netsh int ipv4|ipv6 show excludedportrange protocol=tcp|udp`: rows of two port
/// numbers with an optional trailing `*` (administered) under the dashed separator. A text
/// holding several listings yields the last one.
Expected<ExcludedPortRangeList> ParseExcludedPortRanges(std::string_view text);

}  // namespace portwarden::httpsys
