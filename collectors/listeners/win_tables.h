#pragma once

// Pure decoders for the socket tables that the Windows IP Helper API returns.
//
// GetExtendedTcpTable and GetExtendedUdpTable fill a caller-supplied byte buffer with a
// table: a DWORD entry count followed by fixed-size rows whose layout depends on the
// address family and the table class asked for. These functions take that buffer as bytes
// and never include a Windows header, so they build and are tested on every OS; the thin
// source_windows.cpp only calls the API and hands the bytes over.
//
// The layouts are mirrored from the Windows SDK documentation (tcpmib.h, udpmib.h), cited
// beside each row description in win_tables.cpp. All fields are little-endian (x86-64,
// ARM64), except ports and addresses, which are in network byte order.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/listener.h"

namespace portwarden {

/// Which ownership class the table was requested with; it decides the row layout.
///  kOwnerPid: TCP_TABLE_OWNER_PID_* / UDP_TABLE_OWNER_PID (rows end with the owning PID).
///  kOwnerModule: TCP_TABLE_OWNER_MODULE_* / UDP_TABLE_OWNER_MODULE (rows add a creation
///  timestamp and opaque module data, and are 8-byte aligned).
enum class WinTableClass { kOwnerPid, kOwnerModule };

/// Byte sizes of the mirrored rows and of the table headers (count plus alignment padding).
/// source_windows.cpp static_asserts these against sizeof/offsetof of the real structs.
inline constexpr size_t kWinTcpRowOwnerPidSize = 24;       ///< MIB_TCPROW_OWNER_PID
inline constexpr size_t kWinTcp6RowOwnerPidSize = 56;      ///< MIB_TCP6ROW_OWNER_PID
inline constexpr size_t kWinTcpRowOwnerModuleSize = 160;   ///< MIB_TCPROW_OWNER_MODULE
inline constexpr size_t kWinTcp6RowOwnerModuleSize = 192;  ///< MIB_TCP6ROW_OWNER_MODULE
inline constexpr size_t kWinUdpRowOwnerPidSize = 12;       ///< MIB_UDPROW_OWNER_PID
inline constexpr size_t kWinUdp6RowOwnerPidSize = 28;      ///< MIB_UDP6ROW_OWNER_PID
inline constexpr size_t kWinUdpRowOwnerModuleSize = 160;   ///< MIB_UDPROW_OWNER_MODULE
inline constexpr size_t kWinUdp6RowOwnerModuleSize = 176;  ///< MIB_UDP6ROW_OWNER_MODULE
/// Offset of table[0]: 4 for the PID tables, 8 for the MODULE tables, whose rows hold a
/// LARGE_INTEGER and are therefore 8-byte aligned after the 4-byte dwNumEntries.
inline constexpr size_t kWinOwnerPidTableHeaderSize = 4;
inline constexpr size_t kWinOwnerModuleTableHeaderSize = 8;

/// MIB_TCP_STATE_LISTEN: the only TCP state DecodeWinTcpTable keeps.
inline constexpr uint32_t kWinTcpStateListen = 2;

/// Decodes a GetExtendedTcpTable buffer for `family` (AF_INET / AF_INET6) and `table_class`
/// into one SocketEntry per row in LISTEN state; other states are skipped, so a
/// *_LISTENER class and an *_ALL class give the same result. Each entry has proto kTcp,
/// the canonical local address, the host-order port and the owning PID.
///
/// `buffer` is the bytes the call wrote: pass the buffer trimmed to the size it reported
/// (or the whole allocation: bytes after the last row are ignored). Errors, never reads past
/// the buffer: shorter than the table header, an entry count whose rows cannot fit the
/// buffer, and a last row cut short by the end of the buffer. Pure; thread-safe.
Expected<std::vector<SocketEntry>> DecodeWinTcpTable(std::span<const uint8_t> buffer, Family family,
                                                     WinTableClass table_class);

/// Decodes a GetExtendedUdpTable buffer (UDP_TABLE_OWNER_PID or UDP_TABLE_OWNER_MODULE) for
/// `family` into one SocketEntry per row (UDP has no state: every bound socket is kept),
/// with proto kUdp. Same buffer rules and errors as DecodeWinTcpTable. Pure; thread-safe.
Expected<std::vector<SocketEntry>> DecodeWinUdpTable(std::span<const uint8_t> buffer, Family family,
                                                     WinTableClass table_class);

}  // namespace portwarden
