#pragma once

// Pure decoding of HTTP Server API configuration records (HttpQueryServiceConfiguration) and
// the query loops that fetch them through HttpSysPlatform.
//
// The API fills a caller-supplied buffer with one record: a struct, followed by the strings,
// hashes and socket addresses its pointer fields point to. Those pointers point into the same
// buffer. The decoders take the buffer *and the address it had while the API filled it*
// (ConfigRecord), check that every pointer falls inside the buffer, and read through offsets.
// So the pointer walking, the part that can go wrong on a malformed or truncated record, is
// plain code tested on every OS with synthesized buffers; the OS layer makes one call and
// hands over the bytes. (Copying the fields out in the OS layer would leave exactly that
// part untested off Windows.)
//
// Layouts are those of the x64 Windows SDK http.h, mirrored below with the documentation of
// each struct cited; platform_windows.cpp static_asserts every size and offset against the
// real (or, where MinGW's http.h lacks them, locally declared) structs. Little-endian; ports
// and addresses inside SOCKADDRs in network order.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/httpsys/httpsys.h"
#include "collectors/httpsys/platform.h"

namespace portwarden::httpsys {

/// HTTP_SERVICE_CONFIG_ID values (learn.microsoft.com: ne-http-http_service_config_id).
/// MinGW's http.h stops at HttpServiceConfigUrlAclInfo; SNI and CCS exist since Windows 8.
enum class HttpConfigId : uint32_t {
  kIpListenList = 0,
  kSslCertInfo = 1,
  kUrlAclInfo = 2,
  kSslSniCertInfo = 5,
  kSslCcsCertInfo = 6,
};

/// "HttpServiceConfigUrlAclInfo", ... for messages.
std::string_view ToString(HttpConfigId id);

/// Win32 error codes (winerror.h) the query loops act on.
inline constexpr uint32_t kErrorSuccess = 0;
inline constexpr uint32_t kErrorFileNotFound = 2;
inline constexpr uint32_t kErrorInvalidParameter = 87;
inline constexpr uint32_t kErrorInsufficientBuffer = 122;
inline constexpr uint32_t kErrorMoreData = 234;
inline constexpr uint32_t kErrorNoMoreItems = 259;

/// HTTP_SERVICE_CONFIG_QUERY_TYPE HttpServiceConfigQueryNext.
inline constexpr uint32_t kQueryNext = 1;
/// Address families in SOCKADDR.sa_family (ws2def.h): AF_INET, and Windows' AF_INET6.
inline constexpr uint16_t kAfInet = 2;
inline constexpr uint16_t kAfInet6 = 23;

// Sizes and offsets (x64).
/// SOCKADDR_STORAGE: 128 bytes, 8-byte aligned.
inline constexpr size_t kSockaddrStorageSize = 128;
/// HTTP_SERVICE_CONFIG_IP_LISTEN_QUERY {ULONG AddrCount; SOCKADDR_STORAGE AddrList[]}
/// (ns-http-http_service_config_ip_listen_query): AddrList after 4 bytes of padding.
inline constexpr size_t kIpListenQueryListOffset = 8;
/// HTTP_SERVICE_CONFIG_URLACL_SET {KeyDesc {PWSTR pUrlPrefix}; ParamDesc {PWSTR
/// pStringSecurityDescriptor}} (ns-http-http_service_config_urlacl_set).
inline constexpr size_t kUrlAclSetSize = 16;
inline constexpr size_t kUrlAclSetSddlOffset = 8;
/// HTTP_SERVICE_CONFIG_SSL_PARAM (ns-http-http_service_config_ssl_param): ULONG SslHashLength,
/// PVOID pSslHash, GUID AppId, PWSTR pSslCertStoreName, DWORD DefaultCertCheckMode,
/// DefaultRevocationFreshnessTime, DefaultRevocationUrlRetrievalTimeout, PWSTR
/// pDefaultSslCtlIdentifier, pDefaultSslCtlStoreName, DWORD DefaultFlags.
inline constexpr size_t kSslParamSize = 80;
inline constexpr size_t kSslParamHashLengthOffset = 0;
inline constexpr size_t kSslParamHashOffset = 8;
inline constexpr size_t kSslParamAppIdOffset = 16;
inline constexpr size_t kSslParamStoreNameOffset = 32;
inline constexpr size_t kSslParamCertCheckModeOffset = 40;
inline constexpr size_t kSslParamRevocationFreshnessOffset = 44;
inline constexpr size_t kSslParamRevocationTimeoutOffset = 48;
inline constexpr size_t kSslParamCtlIdentifierOffset = 56;
inline constexpr size_t kSslParamCtlStoreNameOffset = 64;
inline constexpr size_t kSslParamFlagsOffset = 72;
/// HTTP_SERVICE_CONFIG_SSL_SET {KeyDesc {PSOCKADDR pIpPort}; ParamDesc}
/// (ns-http-http_service_config_ssl_set).
inline constexpr size_t kSslSetSize = 8 + kSslParamSize;
inline constexpr size_t kSslSetParamOffset = 8;
/// HTTP_SERVICE_CONFIG_SSL_SNI_SET {KeyDesc {SOCKADDR_STORAGE IpPort; PWSTR Host}; ParamDesc}
/// (ns-http-http_service_config_ssl_sni_set, ns-http-http_service_config_ssl_sni_key).
inline constexpr size_t kSslSniSetHostOffset = kSockaddrStorageSize;
inline constexpr size_t kSslSniSetParamOffset = kSockaddrStorageSize + 8;
inline constexpr size_t kSslSniSetSize = kSslSniSetParamOffset + kSslParamSize;
/// HTTP_SERVICE_CONFIG_SSL_CCS_SET {KeyDesc {SOCKADDR_STORAGE LocalAddress}; ParamDesc}
/// (ns-http-http_service_config_ssl_ccs_set, ns-http-http_service_config_ssl_ccs_key).
inline constexpr size_t kSslCcsSetParamOffset = kSockaddrStorageSize;
inline constexpr size_t kSslCcsSetSize = kSslCcsSetParamOffset + kSslParamSize;
/// The *_QUERY inputs: {HTTP_SERVICE_CONFIG_QUERY_TYPE QueryDesc; <key> KeyDesc; DWORD
/// dwToken}, the key 8-byte aligned (ns-http-http_service_config_urlacl_query, _ssl_query,
/// _ssl_sni_query, _ssl_ccs_query).
inline constexpr size_t kQueryKeyOffset = 8;
inline constexpr size_t kUrlAclQuerySize = 24;   ///< key: one pointer
inline constexpr size_t kSslQuerySize = 24;      ///< key: one pointer
inline constexpr size_t kSslSniQuerySize = 152;  ///< key: SOCKADDR_STORAGE + pointer
inline constexpr size_t kSslCcsQuerySize = 144;  ///< key: SOCKADDR_STORAGE
/// Offset of dwToken in the query input of `id`: after a one-pointer key, after the SNI key
/// (SOCKADDR_STORAGE + pointer) or after the CCS key (SOCKADDR_STORAGE).
constexpr size_t QueryTokenOffset(HttpConfigId id) {
  if (id == HttpConfigId::kSslSniCertInfo) return kQueryKeyOffset + kSockaddrStorageSize + 8;
  if (id == HttpConfigId::kSslCcsCertInfo) return kQueryKeyOffset + kSockaddrStorageSize;
  return kQueryKeyOffset + 8;
}

/// A result buffer and the address its first byte had when the API wrote into it.
struct ConfigRecord {
  std::span<const uint8_t> bytes;
  uint64_t base = 0;
};

/// The input of a QueryNext enumeration step for `id` (URL ACL, SSL, SNI, CCS): QueryDesc =
/// HttpServiceConfigQueryNext, a zeroed key (no pointer set), dwToken = `token`.
std::vector<uint8_t> QueryNextInput(HttpConfigId id, uint32_t token);

/// Decodes HTTP_SERVICE_CONFIG_IP_LISTEN_QUERY: one entry per AF_INET / AF_INET6 address, in
/// canonical text ("10.0.0.5", "::"). The port HTTP.sys stores with each address is ignored:
/// the list is about addresses. Errors: shorter than the header, a count whose entries do
/// not fit, an address family other than AF_INET/AF_INET6. Pure; thread-safe.
Expected<std::vector<IpListenEntry>> DecodeIpListenQuery(std::span<const uint8_t> bytes);

/// Decodes HTTP_SERVICE_CONFIG_URLACL_SET: URL, SDDL and its principals (DecodeSddl).
/// Errors: short buffer, a null or out-of-buffer pointer, an unterminated string, an SDDL
/// DecodeSddl refuses. Pure; thread-safe.
Expected<UrlReservation> DecodeUrlAclSet(const ConfigRecord& record);

/// Decodes HTTP_SERVICE_CONFIG_SSL_SET (kIpPort), HTTP_SERVICE_CONFIG_SSL_SNI_SET
/// (kHostnamePort) and HTTP_SERVICE_CONFIG_SSL_CCS_SET (kCcs) into a TlsBinding shaped like
/// ParseSslCert's: endpoint as netsh prints it ("0.0.0.0:443", "[::]:443", "host:443",
/// "443"), hash in lower-case hex, app ID braced, store ("" when the pointer is null, which
/// HTTP.sys reads as "MY"), and the remaining DWORD/string fields in `options` under their
/// struct field names. Errors as DecodeUrlAclSet, plus a hash longer than 64 bytes and a
/// socket address of another family. Pure; thread-safe.
Expected<TlsBinding> DecodeSslSet(const ConfigRecord& record);
Expected<TlsBinding> DecodeSslSniSet(const ConfigRecord& record);
Expected<TlsBinding> DecodeSslCcsSet(const ConfigRecord& record);

/// Reads the IP listen list through `api` (HttpInitializeConfig already done). A list that
/// was never set is reported by the API as ERROR_FILE_NOT_FOUND and is returned as an empty
/// list (HTTP.sys binds every address). Other errors name the call and the code in hex.
Expected<std::vector<IpListenEntry>> QueryIpListen(HttpSysPlatform& api);

/// Every URL reservation: QueryNext with dwToken 0, 1, ... until ERROR_NO_MORE_ITEMS,
/// regrowing the buffer on ERROR_INSUFFICIENT_BUFFER / ERROR_MORE_DATA. A record that does
/// not decode is skipped and counted in `skipped`.
struct UrlAclQueryResult {
  std::vector<UrlReservation> reservations;
  int skipped = 0;
};
Expected<UrlAclQueryResult> QueryUrlAcls(HttpSysPlatform& api);

/// Every TLS binding: the IP:port, SNI and CCS stores, enumerated like QueryUrlAcls. SNI and
/// CCS answer ERROR_INVALID_PARAMETER before Windows 8, which counts as an empty store.
struct TlsQueryResult {
  std::vector<TlsBinding> bindings;
  int skipped = 0;
};
Expected<TlsQueryResult> QueryTlsBindings(HttpSysPlatform& api);

}  // namespace portwarden::httpsys
