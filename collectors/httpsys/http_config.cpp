#include "collectors/httpsys/http_config.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "collectors/httpsys/bytes.h"
#include "collectors/listeners/address.h"

namespace portwarden::httpsys {
namespace {

using internal::HexCode;
using internal::LoadU16;
using internal::LoadU32;
using internal::LoadU64;

/// The first buffer is enough for any ordinary record; it grows when the API asks.
constexpr size_t kInitialBufferBytes = 4096;
/// No single record (one reservation, one binding, the whole listen list) comes near this;
/// a request for more is treated as a broken answer rather than allocated.
constexpr size_t kMaxRecordBytes = 1 << 20;
constexpr int kMaxGrowths = 8;
/// A store with more records than this is taken as an enumeration that does not end.
constexpr uint32_t kMaxRecords = 100000;
/// SHA-1 is 20 bytes, SHA-256 32; a longer "hash" is a damaged record.
constexpr uint32_t kMaxHashBytes = 64;
/// SOCKADDR_IN is 16 bytes, SOCKADDR_IN6 28.
constexpr size_t kSockaddrIn6Size = 28;

/// Reads a record's fields and follows its pointers, which must stay inside the record.
class RecordReader {
 public:
  RecordReader(const ConfigRecord& record, std::string_view what)
      : bytes_(record.bytes), base_(record.base), what_(what) {}

  std::optional<Error> Require(size_t size) const {
    if (bytes_.size() >= size) return std::nullopt;
    return Fail("record is " + std::to_string(bytes_.size()) + " bytes, expected at least " +
                std::to_string(size));
  }

  uint32_t U32(size_t offset) const { return LoadU32(bytes_, offset); }

  /// The offset a pointer field points to; nullopt for a null pointer.
  Expected<std::optional<size_t>> Pointer(size_t field_offset) const {
    uint64_t p = LoadU64(bytes_, field_offset);
    if (p == 0) return std::optional<size_t>();
    if (p < base_ || p - base_ >= bytes_.size()) {
      return Fail("pointer at offset " + std::to_string(field_offset) +
                  " points outside the returned buffer");
    }
    return std::optional<size_t>(static_cast<size_t>(p - base_));
  }

  /// The NUL-terminated UTF-16 string a PWSTR field points to; "" for a null pointer unless
  /// `required`.
  Expected<std::string> WideString(size_t field_offset, bool required) const {
    auto at = Pointer(field_offset);
    if (!at) return at.error();
    if (!*at) {
      if (required) return Fail("null string pointer at offset " + std::to_string(field_offset));
      return std::string();
    }
    for (size_t end = **at; end + 1 < bytes_.size(); end += 2) {
      if (bytes_[end] == 0 && bytes_[end + 1] == 0) {
        return internal::Utf16LeToUtf8(bytes_.subspan(**at, end - **at));
      }
    }
    return Fail("string at offset " + std::to_string(**at) + " runs past the buffer");
  }

  /// `length` bytes a pointer field points to (empty for length 0).
  Expected<std::span<const uint8_t>> Bytes(size_t field_offset, size_t length) const {
    if (length == 0) return std::span<const uint8_t>();
    auto at = Pointer(field_offset);
    if (!at) return at.error();
    if (!*at) return Fail("null pointer at offset " + std::to_string(field_offset));
    if (bytes_.size() - **at < length) {
      return Fail(std::to_string(length) + " bytes at offset " + std::to_string(**at) +
                  " run past the buffer");
    }
    return bytes_.subspan(**at, length);
  }

  std::span<const uint8_t> bytes() const { return bytes_; }

  Error Fail(const std::string& what) const { return Error{what_ + ": " + what}; }

 private:
  std::span<const uint8_t> bytes_;
  uint64_t base_;
  std::string what_;
};

/// A socket address, decoded.
struct SockAddr {
  std::string address;  ///< canonical, without brackets
  uint16_t port = 0;
  bool v6 = false;
};

/// SOCKADDR_IN {sin_family, sin_port, sin_addr} or SOCKADDR_IN6 {sin6_family, sin6_port,
/// sin6_flowinfo, sin6_addr, sin6_scope_id} at the start of `bytes`.
Expected<SockAddr> DecodeSockaddr(std::span<const uint8_t> bytes, const RecordReader& reader) {
  if (bytes.size() < 16) return reader.Fail("socket address cut short");
  uint16_t family = LoadU16(bytes, 0);
  SockAddr out;
  out.port = static_cast<uint16_t>(bytes[2] << 8 | bytes[3]);
  if (family == kAfInet) {
    out.address = FormatIpv4(bytes.data() + 4);
    return out;
  }
  if (family == kAfInet6) {
    if (bytes.size() < kSockaddrIn6Size) return reader.Fail("IPv6 socket address cut short");
    out.address = FormatIpv6(bytes.data() + 8);
    out.v6 = true;
    return out;
  }
  return reader.Fail("address family " + std::to_string(family) +
                     ", expected AF_INET (2) or AF_INET6 (23)");
}

std::string Endpoint(const SockAddr& a) {
  return (a.v6 ? "[" + a.address + "]" : a.address) + ":" + std::to_string(a.port);
}

/// HTTP_SERVICE_CONFIG_SSL_PARAM at `offset` into `binding`.
std::optional<Error> DecodeSslParam(const RecordReader& reader, size_t offset,
                                    TlsBinding& binding) {
  uint32_t hash_length = reader.U32(offset + kSslParamHashLengthOffset);
  if (hash_length > kMaxHashBytes) {
    return reader.Fail("certificate hash of " + std::to_string(hash_length) + " bytes");
  }
  auto hash = reader.Bytes(offset + kSslParamHashOffset, hash_length);
  if (!hash) return hash.error();
  binding.cert_hash = internal::HexLower(*hash);
  binding.app_id =
      internal::FormatGuid(reader.bytes().subspan(offset + kSslParamAppIdOffset).first<16>());
  auto store = reader.WideString(offset + kSslParamStoreNameOffset, false);
  if (!store) return store.error();
  binding.store = std::move(*store);
  auto ctl_identifier = reader.WideString(offset + kSslParamCtlIdentifierOffset, false);
  if (!ctl_identifier) return ctl_identifier.error();
  auto ctl_store = reader.WideString(offset + kSslParamCtlStoreNameOffset, false);
  if (!ctl_store) return ctl_store.error();
  binding.options = {
      {"DefaultCertCheckMode", std::to_string(reader.U32(offset + kSslParamCertCheckModeOffset))},
      {"DefaultRevocationFreshnessTime",
       std::to_string(reader.U32(offset + kSslParamRevocationFreshnessOffset))},
      {"DefaultRevocationUrlRetrievalTimeout",
       std::to_string(reader.U32(offset + kSslParamRevocationTimeoutOffset))},
      {"DefaultSslCtlIdentifier", std::move(*ctl_identifier)},
      {"DefaultSslCtlStoreName", std::move(*ctl_store)},
      {"DefaultFlags", HexCode(reader.U32(offset + kSslParamFlagsOffset))},
  };
  return std::nullopt;
}

/// The output buffer of the query calls, 8-byte aligned as the API's structs need, reused
/// from call to call and grown when the API asks for more.
class Querier {
 public:
  explicit Querier(HttpSysPlatform& api) : api_(api), storage_(kInitialBufferBytes / 8) {}

  /// One record: calls until the buffer is big enough. Returns the API's final code.
  Expected<uint32_t> Call(HttpConfigId id, std::span<const uint8_t> input,
                          const std::string& what) {
    for (int growth = 0; growth < kMaxGrowths; ++growth) {
      std::span<uint8_t> out(reinterpret_cast<uint8_t*>(storage_.data()), storage_.size() * 8);
      uint32_t needed = 0;
      uint32_t code =
          api_.HttpQueryServiceConfiguration(static_cast<uint32_t>(id), input, out, needed);
      if (code == kErrorSuccess) {
        // The reported length bounds the record; a zero or larger one leaves the whole buffer.
        length_ = needed == 0 ? out.size() : std::min<size_t>(needed, out.size());
        return code;
      }
      if (code != kErrorInsufficientBuffer && code != kErrorMoreData) return code;
      size_t want = needed > out.size() ? needed : out.size() * 2;
      if (want > kMaxRecordBytes) {
        return Error{what + " asks for a buffer of " + std::to_string(want) +
                     " bytes (more than 1 MiB)"};
      }
      storage_.assign((want + 7) / 8, 0);
    }
    return Error{what + ": the record kept growing (ERROR_INSUFFICIENT_BUFFER " +
                 std::to_string(kMaxGrowths) + " times)"};
  }

  ConfigRecord record() const {
    return {std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(storage_.data()), length_),
            reinterpret_cast<uintptr_t>(storage_.data())};
  }

 private:
  HttpSysPlatform& api_;
  std::vector<uint64_t> storage_;
  size_t length_ = 0;
};

std::string CallName(HttpConfigId id) {
  return "HttpQueryServiceConfiguration(" + std::string(ToString(id)) + ")";
}

/// Enumerates a QueryNext store, decoding each record with `decode`.
template <typename T, typename Decode>
Expected<std::pair<std::vector<T>, int>> Enumerate(HttpSysPlatform& api, HttpConfigId id,
                                                   Decode decode, bool invalid_means_empty) {
  Querier querier(api);
  std::vector<T> records;
  int skipped = 0;
  for (uint32_t token = 0;; ++token) {
    if (token == kMaxRecords) {
      return Error{CallName(id) + ": more than " + std::to_string(kMaxRecords) +
                   " records, the enumeration does not end"};
    }
    std::vector<uint8_t> input = QueryNextInput(id, token);
    std::string what = CallName(id) + " record " + std::to_string(token);
    auto code = querier.Call(id, input, what);
    if (!code) return code.error();
    if (*code == kErrorNoMoreItems) break;
    if (*code == kErrorInvalidParameter && token == 0 && invalid_means_empty) break;
    if (*code != kErrorSuccess) return Error{what + " failed: " + HexCode(*code)};
    auto record = decode(querier.record());
    if (record) {
      records.push_back(std::move(*record));
    } else {
      ++skipped;
    }
  }
  return std::pair{std::move(records), skipped};
}

}  // namespace

std::string_view ToString(HttpConfigId id) {
  switch (id) {
    case HttpConfigId::kIpListenList:
      return "HttpServiceConfigIPListenList";
    case HttpConfigId::kSslCertInfo:
      return "HttpServiceConfigSSLCertInfo";
    case HttpConfigId::kUrlAclInfo:
      return "HttpServiceConfigUrlAclInfo";
    case HttpConfigId::kSslSniCertInfo:
      return "HttpServiceConfigSslSniCertInfo";
    case HttpConfigId::kSslCcsCertInfo:
      return "HttpServiceConfigSslCcsCertInfo";
  }
  return "HttpServiceConfig?";
}

std::vector<uint8_t> QueryNextInput(HttpConfigId id, uint32_t token) {
  size_t size = kUrlAclQuerySize;
  if (id == HttpConfigId::kSslSniCertInfo) size = kSslSniQuerySize;
  if (id == HttpConfigId::kSslCcsCertInfo) size = kSslCcsQuerySize;
  std::vector<uint8_t> input(size, 0);
  for (int i = 0; i < 4; ++i) {
    input[i] = static_cast<uint8_t>(kQueryNext >> (8 * i));
    input[QueryTokenOffset(id) + i] = static_cast<uint8_t>(token >> (8 * i));
  }
  return input;
}

Expected<std::vector<IpListenEntry>> DecodeIpListenQuery(std::span<const uint8_t> bytes) {
  const std::string what = "HTTP_SERVICE_CONFIG_IP_LISTEN_QUERY";
  if (bytes.size() < 4) {
    return Error{what + ": " + std::to_string(bytes.size()) + " bytes, shorter than the count"};
  }
  const uint32_t count = LoadU32(bytes, 0);
  // An empty list may come back as the count alone, without the padding and first entry.
  if (count == 0) return std::vector<IpListenEntry>{};
  const size_t room = bytes.size() < kIpListenQueryListOffset
                          ? 0
                          : (bytes.size() - kIpListenQueryListOffset) / kSockaddrStorageSize;
  if (count > room) {
    return Error{what + ": " + std::to_string(count) + " addresses do not fit in " +
                 std::to_string(bytes.size()) + " bytes"};
  }
  RecordReader reader({bytes, 0}, what);
  std::vector<IpListenEntry> entries;
  entries.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    auto addr = DecodeSockaddr(
        bytes.subspan(kIpListenQueryListOffset + i * kSockaddrStorageSize, kSockaddrStorageSize),
        reader);
    if (!addr) return addr.error();
    entries.push_back({std::move(addr->address)});
  }
  return entries;
}

Expected<UrlReservation> DecodeUrlAclSet(const ConfigRecord& record) {
  RecordReader reader(record, "HTTP_SERVICE_CONFIG_URLACL_SET");
  if (auto e = reader.Require(kUrlAclSetSize)) return *e;
  auto url = reader.WideString(0, true);
  if (!url) return url.error();
  auto sddl = reader.WideString(kUrlAclSetSddlOffset, true);
  if (!sddl) return sddl.error();
  auto principals = DecodeSddl(*sddl);
  if (!principals) return reader.Fail(*url + ": " + principals.error().message);
  return UrlReservation{std::move(*url), std::move(*sddl), std::move(*principals)};
}

Expected<TlsBinding> DecodeSslSet(const ConfigRecord& record) {
  RecordReader reader(record, "HTTP_SERVICE_CONFIG_SSL_SET");
  if (auto e = reader.Require(kSslSetSize)) return *e;
  auto at = reader.Bytes(0, 16);
  if (!at) return at.error();
  // SOCKADDR_IN6 is longer than the 16 bytes checked so far; look at the family first.
  size_t length = LoadU16(*at, 0) == kAfInet6 ? kSockaddrIn6Size : 16;
  auto raw = reader.Bytes(0, length);
  if (!raw) return raw.error();
  auto addr = DecodeSockaddr(*raw, reader);
  if (!addr) return addr.error();
  TlsBinding binding;
  binding.kind = TlsBindingKind::kIpPort;
  binding.endpoint = Endpoint(*addr);
  binding.host = addr->address;
  binding.port = addr->port;
  if (auto e = DecodeSslParam(reader, kSslSetParamOffset, binding)) return *e;
  return binding;
}

Expected<TlsBinding> DecodeSslSniSet(const ConfigRecord& record) {
  RecordReader reader(record, "HTTP_SERVICE_CONFIG_SSL_SNI_SET");
  if (auto e = reader.Require(kSslSniSetSize)) return *e;
  auto addr = DecodeSockaddr(record.bytes.first(kSockaddrStorageSize), reader);
  if (!addr) return addr.error();
  auto host = reader.WideString(kSslSniSetHostOffset, true);
  if (!host) return host.error();
  TlsBinding binding;
  binding.kind = TlsBindingKind::kHostnamePort;
  binding.host = std::move(*host);
  binding.port = addr->port;
  binding.endpoint = binding.host + ":" + std::to_string(binding.port);
  if (auto e = DecodeSslParam(reader, kSslSniSetParamOffset, binding)) return *e;
  return binding;
}

Expected<TlsBinding> DecodeSslCcsSet(const ConfigRecord& record) {
  RecordReader reader(record, "HTTP_SERVICE_CONFIG_SSL_CCS_SET");
  if (auto e = reader.Require(kSslCcsSetSize)) return *e;
  auto addr = DecodeSockaddr(record.bytes.first(kSockaddrStorageSize), reader);
  if (!addr) return addr.error();
  TlsBinding binding;
  binding.kind = TlsBindingKind::kCcs;
  binding.port = addr->port;
  binding.endpoint = std::to_string(binding.port);
  if (auto e = DecodeSslParam(reader, kSslCcsSetParamOffset, binding)) return *e;
  return binding;
}

Expected<std::vector<IpListenEntry>> QueryIpListen(HttpSysPlatform& api) {
  Querier querier(api);
  const std::string what = CallName(HttpConfigId::kIpListenList);
  auto code = querier.Call(HttpConfigId::kIpListenList, {}, what);
  if (!code) return code.error();
  if (*code == kErrorFileNotFound) return std::vector<IpListenEntry>{};
  if (*code != kErrorSuccess) return Error{what + " failed: " + HexCode(*code)};
  return DecodeIpListenQuery(querier.record().bytes);
}

Expected<UrlAclQueryResult> QueryUrlAcls(HttpSysPlatform& api) {
  auto result = Enumerate<UrlReservation>(api, HttpConfigId::kUrlAclInfo, DecodeUrlAclSet, false);
  if (!result) return result.error();
  return UrlAclQueryResult{std::move(result->first), result->second};
}

Expected<TlsQueryResult> QueryTlsBindings(HttpSysPlatform& api) {
  TlsQueryResult out;
  struct Store {
    HttpConfigId id;
    Expected<TlsBinding> (*decode)(const ConfigRecord&);
    bool invalid_means_empty;
  };
  for (const Store& store : {Store{HttpConfigId::kSslCertInfo, DecodeSslSet, false},
                             Store{HttpConfigId::kSslSniCertInfo, DecodeSslSniSet, true},
                             Store{HttpConfigId::kSslCcsCertInfo, DecodeSslCcsSet, true}}) {
    auto result = Enumerate<TlsBinding>(api, store.id, store.decode, store.invalid_means_empty);
    if (!result) return result.error();
    for (auto& b : result->first) out.bindings.push_back(std::move(b));
    out.skipped += result->second;
  }
  return out;
}

}  // namespace portwarden::httpsys
