#pragma once

// Little-endian loads, UTF-16 and hex formatting for the binary decoders of this folder
// (HTTP Server API records, registry values, security descriptors). Internal to httpsys.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace portwarden::httpsys::internal {

/// Little-endian loads at `offset`; the caller has checked that the bytes are there.
uint16_t LoadU16(std::span<const uint8_t> bytes, size_t offset);
uint32_t LoadU32(std::span<const uint8_t> bytes, size_t offset);
uint64_t LoadU64(std::span<const uint8_t> bytes, size_t offset);

/// UTF-16LE code units (an even number of bytes; a final odd byte is ignored) as UTF-8.
/// An unpaired surrogate becomes U+FFFD, so the result is always valid UTF-8.
std::string Utf16LeToUtf8(std::span<const uint8_t> bytes);

/// Lower-case hex of every byte ("0a1b...").
std::string HexLower(std::span<const uint8_t> bytes);

/// A GUID as 16 bytes in its in-memory layout (Data1 u32, Data2 u16, Data3 u16 little-endian,
/// then Data4[8]), printed "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" in lower case as netsh
/// prints application IDs.
std::string FormatGuid(std::span<const uint8_t, 16> bytes);

/// A Win32 error code as Windows messages show it: "0x00000005".
std::string HexCode(uint32_t code);

}  // namespace portwarden::httpsys::internal
