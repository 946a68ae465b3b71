#pragma once

// Test support: synthesized HTTP Server API records and a hand-written HttpSysPlatform that
// answers like the real one from canned data (no mocking framework: it behaves, it does not
// verify). The record builder is an independent transcription of the documented structs, so
// the decoders' offsets are checked against it and, on Windows, by the static_asserts in
// platform_windows.cpp.

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "collectors/httpsys/http_config.h"
#include "collectors/httpsys/platform.h"

namespace portwarden::httpsys::testing {

/// One API result: a fixed-size struct followed by the data its pointer fields point to.
/// Pointers are relocated when the record is materialized at an address, as the API writes
/// them relative to the caller's buffer.
class Record {
 public:
  explicit Record(size_t struct_size) : bytes_(struct_size, 0) {}

  Record& U16(size_t at, uint16_t v) { return Put(at, v, 2); }
  Record& U32(size_t at, uint32_t v) { return Put(at, v, 4); }
  Record& Raw(size_t at, std::span<const uint8_t> data) {
    std::memcpy(bytes_.data() + at, data.data(), data.size());
    return *this;
  }
  /// Appends `data` after what is there (8-byte aligned) and points the field at `at` to it.
  Record& Point(size_t at, std::span<const uint8_t> data) {
    while (bytes_.size() % 8 != 0) bytes_.push_back(0xcc);
    pointers_.push_back({at, bytes_.size()});
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return *this;
  }
  /// A UTF-16LE string, NUL-terminated unless `terminate` is false.
  Record& WString(size_t at, std::u16string_view text, bool terminate = true) {
    std::vector<uint8_t> data;
    for (char16_t c : text) {
      data.push_back(static_cast<uint8_t>(c));
      data.push_back(static_cast<uint8_t>(c >> 8));
    }
    if (terminate) data.insert(data.end(), {0, 0});
    return Point(at, data);
  }
  /// A pointer field holding `absolute`, whatever the record's address (e.g. outside it).
  Record& AbsolutePointer(size_t at, uint64_t absolute) {
    absolute_.push_back({at, absolute});
    return *this;
  }
  /// Drops the last `n` bytes (a record cut short).
  Record& Truncate(size_t n) {
    bytes_.resize(bytes_.size() - n);
    return *this;
  }

  /// The bytes as the API would write them into a buffer starting at `base`.
  std::vector<uint8_t> At(uint64_t base) const {
    std::vector<uint8_t> out = bytes_;
    auto put64 = [&out](size_t at, uint64_t v) {
      for (int i = 0; i < 8; ++i) out[at + i] = static_cast<uint8_t>(v >> (8 * i));
    };
    for (const auto& [field, target] : pointers_) put64(field, base + target);
    for (const auto& [field, value] : absolute_) put64(field, value);
    return out;
  }

  size_t size() const { return bytes_.size(); }

 private:
  Record& Put(size_t at, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_[at + i] = static_cast<uint8_t>(v >> (8 * i));
    return *this;
  }

  std::vector<uint8_t> bytes_;
  std::vector<std::pair<size_t, size_t>> pointers_;
  std::vector<std::pair<size_t, uint64_t>> absolute_;
};

/// SOCKADDR_IN: family, port (network order), address, 8 bytes of zero.
inline std::vector<uint8_t> SockaddrV4(std::array<uint8_t, 4> address, uint16_t port) {
  std::vector<uint8_t> out(16, 0);
  out[0] = static_cast<uint8_t>(kAfInet);
  out[2] = static_cast<uint8_t>(port >> 8);
  out[3] = static_cast<uint8_t>(port);
  std::memcpy(out.data() + 4, address.data(), 4);
  return out;
}

/// SOCKADDR_IN6: family, port, flowinfo, address, scope id.
inline std::vector<uint8_t> SockaddrV6(std::array<uint8_t, 16> address, uint16_t port) {
  std::vector<uint8_t> out(28, 0);
  out[0] = static_cast<uint8_t>(kAfInet6);
  out[2] = static_cast<uint8_t>(port >> 8);
  out[3] = static_cast<uint8_t>(port);
  std::memcpy(out.data() + 8, address.data(), 16);
  return out;
}

/// A GUID in memory order whose text is {12345678-1234-5678-9abc-def012345678}.
inline const std::array<uint8_t, 16> kAppIdBytes = {0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56,
                                                    0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78};
inline constexpr std::string_view kAppIdText = "{12345678-1234-5678-9abc-def012345678}";

/// 20 bytes 0x01..0x14: thumbprint "0102...14".
inline std::vector<uint8_t> Sha1Bytes() {
  std::vector<uint8_t> out;
  for (uint8_t i = 1; i <= 20; ++i) out.push_back(i);
  return out;
}
inline constexpr std::string_view kSha1Text = "0102030405060708090a0b0c0d0e0f1011121314";

/// HTTP_SERVICE_CONFIG_SSL_PARAM fields at `param` of `record`.
inline void SslParam(Record& record, size_t param, std::u16string_view store) {
  std::vector<uint8_t> hash = Sha1Bytes();
  record.U32(param + 0, static_cast<uint32_t>(hash.size()));
  record.Point(param + 8, hash);
  record.Raw(param + 16, kAppIdBytes);
  if (!store.empty()) record.WString(param + 32, store);
  record.U32(param + 40, 4);       // DefaultCertCheckMode
  record.U32(param + 44, 3600);    // DefaultRevocationFreshnessTime
  record.U32(param + 48, 10000);   // DefaultRevocationUrlRetrievalTimeout
  record.U32(param + 72, 0x0002);  // DefaultFlags: negotiate client certificate
}

inline Record UrlAclSet(std::u16string_view url, std::u16string_view sddl) {
  Record r(kUrlAclSetSize);
  r.WString(0, url).WString(8, sddl);
  return r;
}

inline Record SslSet(const std::vector<uint8_t>& sockaddr, std::u16string_view store = u"MY") {
  Record r(kSslSetSize);
  r.Point(0, sockaddr);
  SslParam(r, kSslSetParamOffset, store);
  return r;
}

inline Record SslSniSet(std::u16string_view host, uint16_t port) {
  Record r(kSslSniSetSize);
  r.Raw(0, SockaddrV4({0, 0, 0, 0}, port));
  r.WString(kSslSniSetHostOffset, host);
  SslParam(r, kSslSniSetParamOffset, u"WebHosting");
  return r;
}

inline Record SslCcsSet(uint16_t port) {
  Record r(kSslCcsSetSize);
  r.Raw(0, SockaddrV4({0, 0, 0, 0}, port));
  SslParam(r, kSslCcsSetParamOffset, u"");
  return r;
}

/// HTTP_SERVICE_CONFIG_IP_LISTEN_QUERY with these socket addresses.
inline Record IpListenQuery(const std::vector<std::vector<uint8_t>>& addresses) {
  Record r(kIpListenQueryListOffset + addresses.size() * kSockaddrStorageSize);
  r.U32(0, static_cast<uint32_t>(addresses.size()));
  for (size_t i = 0; i < addresses.size(); ++i) {
    r.Raw(kIpListenQueryListOffset + i * kSockaddrStorageSize, addresses[i]);
  }
  return r;
}

/// Registry value data of REG_MULTI_SZ strings (ASCII), with the final empty string.
inline std::vector<uint8_t> MultiSz(const std::vector<std::string>& strings) {
  std::vector<uint8_t> out;
  for (const std::string& s : strings) {
    for (char c : s) out.insert(out.end(), {static_cast<uint8_t>(c), 0});
    out.insert(out.end(), {0, 0});
  }
  out.insert(out.end(), {0, 0});
  return out;
}

/// HttpSysPlatform answering from the fields below, like the real API: a too small buffer
/// gets ERROR_INSUFFICIENT_BUFFER and the size needed; enumerations end with
/// ERROR_NO_MORE_ITEMS; a query input of the wrong shape gets ERROR_INVALID_PARAMETER.
class FakePlatform : public HttpSysPlatform {
 public:
  uint32_t init_code = kErrorSuccess;
  int terminated = 0;
  /// nullopt: no list configured (the API answers ERROR_FILE_NOT_FOUND).
  std::optional<Record> ip_listen;
  std::map<HttpConfigId, std::vector<Record>> stores;
  std::map<HttpConfigId, uint32_t> store_errors;       ///< answered instead of any record
  std::vector<std::pair<HttpConfigId, size_t>> calls;  ///< id and output buffer size

  std::map<std::string, RegistryValue> registry;  ///< "key\name" -> value
  std::map<std::string, std::vector<RegistryValue>> registry_keys;
  std::optional<Error> registry_error;

  std::map<std::string, CommandOutput> netsh;  ///< arguments -> output; others fail
  std::vector<std::string> netsh_calls;
  std::chrono::milliseconds netsh_timeout{0};

  std::map<uint32_t, ProcessIdentity> processes;
  std::map<std::string, std::string> accounts;  ///< SID -> account
  std::map<std::string, int64_t> not_after;     ///< "store|hash" -> Unix seconds

  uint32_t HttpInitializeConfig() override { return init_code; }
  void HttpTerminateConfig() override { ++terminated; }

  uint32_t HttpQueryServiceConfiguration(uint32_t config_id, std::span<const uint8_t> input,
                                         std::span<uint8_t> output,
                                         uint32_t& return_length) override {
    const auto id = static_cast<HttpConfigId>(config_id);
    calls.emplace_back(id, output.size());
    if (reinterpret_cast<uintptr_t>(output.data()) % 8 != 0) return kErrorInvalidParameter;
    const Record* record = nullptr;
    if (id == HttpConfigId::kIpListenList) {
      if (!input.empty()) return kErrorInvalidParameter;
      if (!ip_listen) return kErrorFileNotFound;
      record = &*ip_listen;
    } else {
      if (auto e = store_errors.find(id); e != store_errors.end()) return e->second;
      if (input.size() != QueryNextInput(id, 0).size()) return kErrorInvalidParameter;
      auto load = [&input](size_t at) {
        return static_cast<uint32_t>(input[at] | input[at + 1] << 8 | input[at + 2] << 16 |
                                     input[at + 3] << 24);
      };
      if (load(0) != kQueryNext) return kErrorInvalidParameter;
      const uint32_t token = load(QueryTokenOffset(id));
      const auto& records = stores[id];
      if (token >= records.size()) return kErrorNoMoreItems;
      record = &records[token];
    }
    std::vector<uint8_t> bytes = record->At(reinterpret_cast<uintptr_t>(output.data()));
    return_length = static_cast<uint32_t>(bytes.size());
    if (bytes.size() > output.size()) return kErrorInsufficientBuffer;
    std::memcpy(output.data(), bytes.data(), bytes.size());
    return kErrorSuccess;
  }

  Expected<std::optional<RegistryValue>> ReadRegistryValue(std::string_view key,
                                                           std::string_view name) override {
    if (registry_error) return *registry_error;
    auto it = registry.find(std::string(key) + "\\" + std::string(name));
    if (it == registry.end()) return std::optional<RegistryValue>();
    return std::optional<RegistryValue>(it->second);
  }

  Expected<std::vector<RegistryValue>> ReadRegistryValues(std::string_view key) override {
    if (registry_error) return *registry_error;
    auto it = registry_keys.find(std::string(key));
    if (it == registry_keys.end()) return std::vector<RegistryValue>{};
    return it->second;
  }

  Expected<CommandOutput> RunNetsh(std::string_view arguments,
                                   std::chrono::milliseconds timeout) override {
    netsh_calls.emplace_back(arguments);
    netsh_timeout = timeout;
    auto it = netsh.find(std::string(arguments));
    if (it == netsh.end()) {
      return Error{"C:\\Windows\\System32\\netsh.exe killed after " +
                   std::to_string(timeout.count()) + " ms (timeout), 0 bytes read"};
    }
    return it->second;
  }

  std::map<uint32_t, ProcessIdentity> Processes() override { return processes; }

  std::string AccountName(std::string_view sid) override {
    auto it = accounts.find(std::string(sid));
    return it == accounts.end() ? "" : it->second;
  }

  std::optional<int64_t> CertificateNotAfter(std::string_view store,
                                             std::string_view sha1_hex) override {
    auto it = not_after.find(std::string(store) + "|" + std::string(sha1_hex));
    if (it == not_after.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace portwarden::httpsys::testing
