#include "collectors/listeners/win_tables.h"

#include <optional>
#include <string>
#include <utility>

#include "collectors/listeners/address.h"

namespace portwarden {
namespace {

// Where the fields this decoder needs sit inside one row, and how rows are laid out.
struct RowLayout {
  const char* api;    // the call that fills the buffer, for error messages
  const char* table;  // the documented table struct, for error messages
  size_t header_size;
  size_t row_size;
  size_t local_addr_offset;
  size_t local_port_offset;
  size_t pid_offset;
  std::optional<size_t> state_offset;  // TCP only: UDP sockets have no state
};

// IPv4 rows are (state, localAddr, localPort, remoteAddr, remotePort, pid); the IPv6 rows
// put the addresses first and the state after them, so each family gets its own offsets.
// The MODULE rows extend the PID rows with LARGE_INTEGER liCreateTimestamp and
// ULONGLONG OwningModuleInfo[TCPIP_OWNING_MODULE_SIZE = 16] (plus, for UDP, an int of
// flags); the LARGE_INTEGER makes the rows 8-byte aligned, hence the 8-byte header.

// MIB_TCPTABLE_OWNER_PID / MIB_TCPROW_OWNER_PID:
//   https://learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcptable_owner_pid
//   https://learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcprow_owner_pid
//   DWORD dwState @0, dwLocalAddr @4, dwLocalPort @8, dwRemoteAddr @12, dwRemotePort @16,
//   dwOwningPid @20; 24 bytes.
constexpr RowLayout kTcp4Pid{
    .api = "GetExtendedTcpTable",
    .table = "MIB_TCPTABLE_OWNER_PID",
    .header_size = kWinOwnerPidTableHeaderSize,
    .row_size = kWinTcpRowOwnerPidSize,
    .local_addr_offset = 4,
    .local_port_offset = 8,
    .pid_offset = 20,
    .state_offset = 0,
};

// MIB_TCP6TABLE_OWNER_PID / MIB_TCP6ROW_OWNER_PID:
//   https://learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcp6table_owner_pid
//   https://learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcp6row_owner_pid
//   UCHAR ucLocalAddr[16] @0, DWORD dwLocalScopeId @16, dwLocalPort @20,
//   UCHAR ucRemoteAddr[16] @24, DWORD dwRemoteScopeId @40, dwRemotePort @44, dwState @48,
//   dwOwningPid @52; 56 bytes.
constexpr RowLayout kTcp6Pid{
    .api = "GetExtendedTcpTable",
    .table = "MIB_TCP6TABLE_OWNER_PID",
    .header_size = kWinOwnerPidTableHeaderSize,
    .row_size = kWinTcp6RowOwnerPidSize,
    .local_addr_offset = 0,
    .local_port_offset = 20,
    .pid_offset = 52,
    .state_offset = 48,
};

// MIB_TCPTABLE_OWNER_MODULE / MIB_TCPROW_OWNER_MODULE:
//   https://learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcptable_owner_module
//   https://learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcprow_owner_module
//   The six DWORDs of MIB_TCPROW_OWNER_PID @0..23, LARGE_INTEGER liCreateTimestamp @24,
//   ULONGLONG OwningModuleInfo[16] @32; 160 bytes. "The table may contain padding for
//   alignment between dwNumEntries and the first entry": table[0] is at 8.
constexpr RowLayout kTcp4Module{
    .api = "GetExtendedTcpTable",
    .table = "MIB_TCPTABLE_OWNER_MODULE",
    .header_size = kWinOwnerModuleTableHeaderSize,
    .row_size = kWinTcpRowOwnerModuleSize,
    .local_addr_offset = 4,
    .local_port_offset = 8,
    .pid_offset = 20,
    .state_offset = 0,
};

// MIB_TCP6TABLE_OWNER_MODULE / MIB_TCP6ROW_OWNER_MODULE:
//   https://learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcp6table_owner_module
//   https://learn.microsoft.com/en-us/windows/win32/api/tcpmib/ns-tcpmib-mib_tcp6row_owner_module
//   The fields of MIB_TCP6ROW_OWNER_PID @0..55, LARGE_INTEGER liCreateTimestamp @56,
//   ULONGLONG OwningModuleInfo[16] @64; 192 bytes; table[0] at 8.
constexpr RowLayout kTcp6Module{
    .api = "GetExtendedTcpTable",
    .table = "MIB_TCP6TABLE_OWNER_MODULE",
    .header_size = kWinOwnerModuleTableHeaderSize,
    .row_size = kWinTcp6RowOwnerModuleSize,
    .local_addr_offset = 0,
    .local_port_offset = 20,
    .pid_offset = 52,
    .state_offset = 48,
};

// MIB_UDPTABLE_OWNER_PID / MIB_UDPROW_OWNER_PID:
//   https://learn.microsoft.com/en-us/windows/win32/api/udpmib/ns-udpmib-mib_udptable_owner_pid
//   https://learn.microsoft.com/en-us/windows/win32/api/udpmib/ns-udpmib-mib_udprow_owner_pid
//   DWORD dwLocalAddr @0, dwLocalPort @4, dwOwningPid @8; 12 bytes.
constexpr RowLayout kUdp4Pid{
    .api = "GetExtendedUdpTable",
    .table = "MIB_UDPTABLE_OWNER_PID",
    .header_size = kWinOwnerPidTableHeaderSize,
    .row_size = kWinUdpRowOwnerPidSize,
    .local_addr_offset = 0,
    .local_port_offset = 4,
    .pid_offset = 8,
    .state_offset = std::nullopt,
};

// MIB_UDP6TABLE_OWNER_PID / MIB_UDP6ROW_OWNER_PID:
//   https://learn.microsoft.com/en-us/windows/win32/api/udpmib/ns-udpmib-mib_udp6table_owner_pid
//   https://learn.microsoft.com/en-us/windows/win32/api/udpmib/ns-udpmib-mib_udp6row_owner_pid
//   UCHAR ucLocalAddr[16] @0, DWORD dwLocalScopeId @16, dwLocalPort @20, dwOwningPid @24;
//   28 bytes.
constexpr RowLayout kUdp6Pid{
    .api = "GetExtendedUdpTable",
    .table = "MIB_UDP6TABLE_OWNER_PID",
    .header_size = kWinOwnerPidTableHeaderSize,
    .row_size = kWinUdp6RowOwnerPidSize,
    .local_addr_offset = 0,
    .local_port_offset = 20,
    .pid_offset = 24,
    .state_offset = std::nullopt,
};

// MIB_UDPTABLE_OWNER_MODULE / MIB_UDPROW_OWNER_MODULE:
//   https://learn.microsoft.com/en-us/windows/win32/api/udpmib/ns-udpmib-mib_udptable_owner_module
//   https://learn.microsoft.com/en-us/windows/win32/api/udpmib/ns-udpmib-mib_udprow_owner_module
//   DWORD dwLocalAddr @0, dwLocalPort @4, dwOwningPid @8, (pad) LARGE_INTEGER
//   liCreateTimestamp @16, int SpecificPortBind:1 / dwFlags @24, (pad)
//   ULONGLONG OwningModuleInfo[16] @32; 160 bytes; table[0] at 8.
constexpr RowLayout kUdp4Module{
    .api = "GetExtendedUdpTable",
    .table = "MIB_UDPTABLE_OWNER_MODULE",
    .header_size = kWinOwnerModuleTableHeaderSize,
    .row_size = kWinUdpRowOwnerModuleSize,
    .local_addr_offset = 0,
    .local_port_offset = 4,
    .pid_offset = 8,
    .state_offset = std::nullopt,
};

// MIB_UDP6TABLE_OWNER_MODULE / MIB_UDP6ROW_OWNER_MODULE:
//   https://learn.microsoft.com/en-us/windows/win32/api/udpmib/ns-udpmib-mib_udp6table_owner_module
//   https://learn.microsoft.com/en-us/windows/win32/api/udpmib/ns-udpmib-mib_udp6row_owner_module
//   UCHAR ucLocalAddr[16] @0, DWORD dwLocalScopeId @16, dwLocalPort @20, dwOwningPid @24,
//   (pad) LARGE_INTEGER liCreateTimestamp @32, int dwFlags @40, (pad)
//   ULONGLONG OwningModuleInfo[16] @48; 176 bytes; table[0] at 8.
constexpr RowLayout kUdp6Module{
    .api = "GetExtendedUdpTable",
    .table = "MIB_UDP6TABLE_OWNER_MODULE",
    .header_size = kWinOwnerModuleTableHeaderSize,
    .row_size = kWinUdp6RowOwnerModuleSize,
    .local_addr_offset = 0,
    .local_port_offset = 20,
    .pid_offset = 24,
    .state_offset = std::nullopt,
};

const RowLayout& LayoutFor(Proto proto, Family family, WinTableClass table_class) {
  const bool v4 = family == Family::kIpv4;
  const bool pid = table_class == WinTableClass::kOwnerPid;
  if (proto == Proto::kTcp) {
    if (v4) return pid ? kTcp4Pid : kTcp4Module;
    return pid ? kTcp6Pid : kTcp6Module;
  }
  if (v4) return pid ? kUdp4Pid : kUdp4Module;
  return pid ? kUdp6Pid : kUdp6Module;
}

// DWORDs are little-endian on every Windows target (x86, x64, ARM64). Assembled byte by
// byte: the buffer has no alignment guarantee here and the host may differ from Windows.
uint32_t ReadDword(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

// The port is a u_short in network byte order stored in the first two bytes of its DWORD;
// the upper two bytes are documented as possibly uninitialised, so they are ignored.
uint16_t ReadPort(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

std::string Prefix(const RowLayout& layout) {
  return std::string(layout.api) + " (" + layout.table + "): ";
}

Expected<std::vector<SocketEntry>> Decode(std::span<const uint8_t> buffer, Proto proto,
                                          Family family, WinTableClass table_class) {
  const RowLayout& layout = LayoutFor(proto, family, table_class);
  if (buffer.size() < layout.header_size) {
    return Error{Prefix(layout) + "buffer of " + std::to_string(buffer.size()) +
                 " bytes is shorter than the " + std::to_string(layout.header_size) +
                 "-byte table header"};
  }
  const uint32_t count = ReadDword(buffer.data());
  const size_t body = buffer.size() - layout.header_size;
  const size_t whole_rows = body / layout.row_size;
  const size_t partial = body % layout.row_size;
  if (count > whole_rows) {
    // One row more than fits, with its start present: the buffer ends inside that row.
    if (count - whole_rows == 1 && partial > 0) {
      return Error{Prefix(layout) + "row " + std::to_string(count) + " of " +
                   std::to_string(count) + " is truncated: " + std::to_string(partial) + " of " +
                   std::to_string(layout.row_size) + " bytes"};
    }
    return Error{Prefix(layout) + "dwNumEntries " + std::to_string(count) +
                 " does not fit the buffer: " + std::to_string(body) +
                 " bytes after the header hold at most " + std::to_string(whole_rows) +
                 " rows of " + std::to_string(layout.row_size) + " bytes"};
  }

  std::vector<SocketEntry> entries;
  entries.reserve(count);
  const uint8_t* row = buffer.data() + layout.header_size;
  for (uint32_t i = 0; i < count; ++i, row += layout.row_size) {
    if (layout.state_offset && ReadDword(row + *layout.state_offset) != kWinTcpStateListen) {
      continue;
    }
    SocketEntry entry;
    entry.proto = proto;
    entry.family = family;
    // The IPv6 scope id is not kept: SocketEntry has no field for it, and wildcard and
    // global listeners, the ones conflicts are about, have none. The tables do not say
    // whether an IPv6 socket is dual-stack, so v6only keeps its default.
    entry.address = family == Family::kIpv4 ? FormatIpv4(row + layout.local_addr_offset)
                                            : FormatIpv6(row + layout.local_addr_offset);
    entry.port = ReadPort(row + layout.local_port_offset);
    entry.pid = ReadDword(row + layout.pid_offset);
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace

Expected<std::vector<SocketEntry>> DecodeWinTcpTable(std::span<const uint8_t> buffer, Family family,
                                                     WinTableClass table_class) {
  return Decode(buffer, Proto::kTcp, family, table_class);
}

Expected<std::vector<SocketEntry>> DecodeWinUdpTable(std::span<const uint8_t> buffer, Family family,
                                                     WinTableClass table_class) {
  return Decode(buffer, Proto::kUdp, family, table_class);
}

}  // namespace portwarden
