// The HTTP Server API and registry decoders: HttpQueryServiceConfiguration result buffers
// (IP listen list, URL ACL, SSL, SNI and CCS records, whose pointers are absolute addresses:
// the buffer is taken to start at kBase) and the ListenOnlyList / REG_MULTI_SZ values.
// First byte: the decoder (modulo 7) and, for ListenOnlyList, the registry type (bit 3).
//
// What a decoder returns is checked against the same bytes read here, field by field at the
// documented offsets (http_config.h): addresses, ports, hashes, app IDs; the REG_MULTI_SZ
// strings are read back from their UTF-8 into UTF-16 and compared with the input's units.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "collectors/httpsys/http_config.h"
#include "collectors/httpsys/registry.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace portwarden::httpsys;
using portwarden::fuzz::IsTextOf;
using portwarden::fuzz::LoadLe;
constexpr uint64_t kBase = 0x10000;

/// The `n` bytes the pointer at `at` points to; nullopt if any falls outside the buffer.
std::optional<std::span<const uint8_t>> Pointee(std::span<const uint8_t> b, size_t at, size_t n) {
  const uint64_t p = LoadLe(b, at, 8);
  if (p < kBase || p - kBase > b.size() || b.size() - (p - kBase) < n) return std::nullopt;
  return b.subspan(p - kBase, n);
}

/// SOCKADDR_IN {family, port (network order), addr} or SOCKADDR_IN6 {family, port,
/// flowinfo, addr}, as the address bytes ParseIpAddress would give and the port.
struct SocketAddress {
  portwarden::IpAddress ip;
  uint16_t port = 0;
};
SocketAddress ReadSocketAddress(std::span<const uint8_t> s) {
  SocketAddress a;
  a.ip.v6 = LoadLe(s, 0, 2) == kAfInet6;
  a.port = static_cast<uint16_t>(s[2] << 8 | s[3]);
  std::copy_n(s.begin() + (a.ip.v6 ? 8 : 4), a.ip.v6 ? 16 : 4, a.ip.bytes.begin());
  return a;
}

/// HTTP_SERVICE_CONFIG_SSL_PARAM at `param`: the hash in lower-case hex, the app ID's GUID
/// (Data1, Data2, Data3 little-endian, then 8 bytes) as printed.
void CheckSslParam(const TlsBinding& b, std::span<const uint8_t> bytes, size_t param) {
  const size_t hash_length = LoadLe(bytes, param + kSslParamHashLengthOffset, 4);
  std::string hex;
  if (hash_length > 0) {
    const auto hash = Pointee(bytes, param + kSslParamHashOffset, hash_length);
    PORTWARDEN_FUZZ_CHECK(hash.has_value());
    for (uint8_t c : *hash) {
      char two[3];
      std::snprintf(two, sizeof two, "%02x", c);
      hex += two;
    }
  }
  PORTWARDEN_FUZZ_CHECK(b.cert_hash == hex);
  PORTWARDEN_FUZZ_CHECK(portwarden::fuzz::IsBracedGuid(b.app_id));
  const size_t guid = param + kSslParamAppIdOffset;
  const auto field = [&](size_t start, size_t digits) {
    return std::stoull(b.app_id.substr(start, digits), nullptr, 16);
  };
  PORTWARDEN_FUZZ_CHECK(field(1, 8) == LoadLe(bytes, guid, 4) &&
                        field(10, 4) == LoadLe(bytes, guid + 4, 2) &&
                        field(15, 4) == LoadLe(bytes, guid + 6, 2));
  for (size_t i = 0; i < 8; ++i) {
    PORTWARDEN_FUZZ_CHECK(field(i < 2 ? 20 + 2 * i : 21 + 2 * i, 2) == bytes[guid + 8 + i]);
  }
}

/// The UTF-16 units that UTF-8 `s` encodes; nullopt unless it is valid, shortest-form UTF-8
/// of scalar values.
std::optional<std::u16string> Utf8ToUtf16(std::string_view s) {
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    const size_t n = c < 0x80 ? 1 : c >> 5 == 6 ? 2 : c >> 4 == 14 ? 3 : c >> 3 == 30 ? 4 : 0;
    if (n == 0 || s.size() - i < n) return std::nullopt;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto d = static_cast<uint8_t>(s[i + k]);
      if (d >> 6 != 2) return std::nullopt;
      cp = cp << 6 | (d & 0x3F);
    }
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    if (cp >= 0x10000) {
      out += static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
      out += static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
    i += n;
  }
  return out;
}

/// The strings of a REG_MULTI_SZ as UTF-16: split at each NUL unit, ending at the first
/// empty string or the last whole unit; unpaired surrogates as U+FFFD.
std::vector<std::u16string> ReferenceMultiSz(std::span<const uint8_t> bytes) {
  std::vector<std::u16string> strings(1);
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    const auto unit = static_cast<char16_t>(LoadLe(bytes, i, 2));
    if (unit != 0) {
      strings.back() += unit;
    } else if (strings.back().empty()) {
      break;
    } else {
      strings.emplace_back();
    }
  }
  if (strings.back().empty()) strings.pop_back();
  for (std::u16string& s : strings) {
    for (size_t i = 0; i < s.size(); ++i) {
      const bool high = s[i] >= 0xD800 && s[i] <= 0xDBFF;
      if (high && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
        ++i;
      } else if (s[i] >= 0xD800 && s[i] <= 0xDFFF) {
        s[i] = 0xFFFD;
      }
    }
  }
  return strings;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t selector = portwarden::fuzz::TakeSelector(data, size);
  const std::span<const uint8_t> bytes(data, size);
  const ConfigRecord record{bytes, kBase};
  switch (selector % 7) {
    case 0:
      if (auto entries = DecodeIpListenQuery(bytes)) {
        PORTWARDEN_FUZZ_CHECK(entries->size() == LoadLe(bytes, 0, 4));
        for (size_t i = 0; i < entries->size(); ++i) {
          const SocketAddress a =
              ReadSocketAddress(bytes.subspan(kIpListenQueryListOffset + i * kSockaddrStorageSize));
          PORTWARDEN_FUZZ_CHECK(IsTextOf((*entries)[i].address, a.ip));
        }
      }
      break;
    case 1:
      if (auto acl = DecodeUrlAclSet(record)) {
        auto principals = DecodeSddl(acl->sddl);
        PORTWARDEN_FUZZ_CHECK(principals && *principals == acl->principals);
      }
      break;
    case 2:
      if (auto b = DecodeSslSet(record)) {
        const auto at = Pointee(bytes, 0, 16);
        PORTWARDEN_FUZZ_CHECK(at.has_value());
        const SocketAddress a =
            ReadSocketAddress(*Pointee(bytes, 0, LoadLe(*at, 0, 2) == kAfInet6 ? 28 : 16));
        PORTWARDEN_FUZZ_CHECK(b->kind == TlsBindingKind::kIpPort && b->port == a.port &&
                              IsTextOf(b->host, a.ip));
        PORTWARDEN_FUZZ_CHECK(b->endpoint == (a.ip.v6 ? "[" + b->host + "]" : b->host) + ":" +
                                                 std::to_string(a.port));
        CheckSslParam(*b, bytes, kSslSetParamOffset);
      }
      break;
    case 3:
      if (auto b = DecodeSslSniSet(record)) {
        const SocketAddress a = ReadSocketAddress(bytes);
        PORTWARDEN_FUZZ_CHECK(b->kind == TlsBindingKind::kHostnamePort && b->port == a.port &&
                              b->endpoint == b->host + ":" + std::to_string(a.port));
        CheckSslParam(*b, bytes, kSslSniSetParamOffset);
      }
      break;
    case 4:
      if (auto b = DecodeSslCcsSet(record)) {
        const SocketAddress a = ReadSocketAddress(bytes);
        PORTWARDEN_FUZZ_CHECK(b->kind == TlsBindingKind::kCcs && b->host.empty() &&
                              b->port == a.port && b->endpoint == std::to_string(a.port));
        CheckSslParam(*b, bytes, kSslCcsSetParamOffset);
      }
      break;
    case 5:
      if (auto list = DecodeListenOnlyList(selector & 8 ? kRegSz : kRegMultiSz, bytes)) {
        // Every string is an address or counted as skipped.
        PORTWARDEN_FUZZ_CHECK(list->entries.size() + static_cast<size_t>(list->skipped) ==
                              DecodeMultiSz(bytes).size());
        for (const IpListenEntry& e : list->entries) {
          PORTWARDEN_FUZZ_CHECK(portwarden::ParseIpAddress(e.address).has_value());
        }
      }
      break;
    case 6: {
      const std::vector<std::string> strings = DecodeMultiSz(bytes);
      const std::vector<std::u16string> expected = ReferenceMultiSz(bytes);
      PORTWARDEN_FUZZ_CHECK(strings.size() == expected.size());
      for (size_t i = 0; i < strings.size(); ++i) {
        PORTWARDEN_FUZZ_CHECK(Utf8ToUtf16(strings[i]) == expected[i]);
      }
      break;
    }
  }
  return 0;
}
