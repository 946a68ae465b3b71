// Windows: HttpSysPlatform over httpapi.dll, the registry, netsh, toolhelp and the service
// manager, LookupAccountSid and the certificate store. Each method is one or two calls; the
// records they return are decoded by the portable code (http_config.cpp, registry.cpp).
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <http.h>
#include <sddl.h>
#include <tlhelp32.h>
#include <wincrypt.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "collectors/httpsys/bytes.h"
#include "collectors/httpsys/http_config.h"
#include "collectors/httpsys/platform.h"
#include "collectors/httpsys/registry.h"
#include "collectors/httpsys/run_process.h"
#include "collectors/common/wide_windows.h"

namespace portwarden::httpsys {
namespace {

using internal::HexCode;

// The decoders mirror the documented layouts; hold them to the SDK's real structs.
static_assert(sizeof(void*) == 8, "the mirrored HTTP API layouts are the x64 ones");
static_assert(sizeof(SOCKADDR_STORAGE) == kSockaddrStorageSize);
static_assert(offsetof(HTTP_SERVICE_CONFIG_IP_LISTEN_QUERY, AddrList) == kIpListenQueryListOffset);
static_assert(sizeof(HTTP_SERVICE_CONFIG_URLACL_SET) == kUrlAclSetSize);
static_assert(offsetof(HTTP_SERVICE_CONFIG_URLACL_SET, ParamDesc) == kUrlAclSetSddlOffset);
static_assert(sizeof(HTTP_SERVICE_CONFIG_URLACL_QUERY) == kUrlAclQuerySize);
static_assert(offsetof(HTTP_SERVICE_CONFIG_URLACL_QUERY, KeyDesc) == kQueryKeyOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_URLACL_QUERY, dwToken) ==
              QueryTokenOffset(HttpConfigId::kUrlAclInfo));
static_assert(sizeof(HTTP_SERVICE_CONFIG_SSL_PARAM) == kSslParamSize);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, SslHashLength) == kSslParamHashLengthOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, pSslHash) == kSslParamHashOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, AppId) == kSslParamAppIdOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, pSslCertStoreName) ==
              kSslParamStoreNameOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, DefaultCertCheckMode) ==
              kSslParamCertCheckModeOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, DefaultRevocationFreshnessTime) ==
              kSslParamRevocationFreshnessOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, DefaultRevocationUrlRetrievalTimeout) ==
              kSslParamRevocationTimeoutOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, pDefaultSslCtlIdentifier) ==
              kSslParamCtlIdentifierOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, pDefaultSslCtlStoreName) ==
              kSslParamCtlStoreNameOffset);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_PARAM, DefaultFlags) == kSslParamFlagsOffset);
static_assert(sizeof(HTTP_SERVICE_CONFIG_SSL_SET) == kSslSetSize);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_SET, ParamDesc) == kSslSetParamOffset);
static_assert(sizeof(HTTP_SERVICE_CONFIG_SSL_QUERY) == kSslQuerySize);
static_assert(offsetof(HTTP_SERVICE_CONFIG_SSL_QUERY, dwToken) ==
              QueryTokenOffset(HttpConfigId::kSslCertInfo));

// MinGW's http.h has no SNI or CCS types (Windows 8 additions); declared here as the SDK
// documents them (ns-http-http_service_config_ssl_sni_key, _ssl_sni_set, _ssl_sni_query,
// _ssl_ccs_key, _ssl_ccs_set, _ssl_ccs_query), so the compiler lays them out and the
// decoder's constants are checked against that.
struct SslSniKey {
  SOCKADDR_STORAGE IpPort;
  PWSTR Host;
};
struct SslSniSet {
  SslSniKey KeyDesc;
  HTTP_SERVICE_CONFIG_SSL_PARAM ParamDesc;
};
struct SslSniQuery {
  HTTP_SERVICE_CONFIG_QUERY_TYPE QueryDesc;
  SslSniKey KeyDesc;
  DWORD dwToken;
};
struct SslCcsKey {
  SOCKADDR_STORAGE LocalAddress;
};
struct SslCcsSet {
  SslCcsKey KeyDesc;
  HTTP_SERVICE_CONFIG_SSL_PARAM ParamDesc;
};
struct SslCcsQuery {
  HTTP_SERVICE_CONFIG_QUERY_TYPE QueryDesc;
  SslCcsKey KeyDesc;
  DWORD dwToken;
};
static_assert(offsetof(SslSniSet, KeyDesc.Host) == kSslSniSetHostOffset);
static_assert(offsetof(SslSniSet, ParamDesc) == kSslSniSetParamOffset);
static_assert(sizeof(SslSniSet) == kSslSniSetSize);
static_assert(offsetof(SslSniQuery, KeyDesc) == kQueryKeyOffset);
static_assert(offsetof(SslSniQuery, dwToken) == QueryTokenOffset(HttpConfigId::kSslSniCertInfo));
static_assert(sizeof(SslSniQuery) == kSslSniQuerySize);
static_assert(offsetof(SslCcsSet, ParamDesc) == kSslCcsSetParamOffset);
static_assert(sizeof(SslCcsSet) == kSslCcsSetSize);
static_assert(offsetof(SslCcsQuery, KeyDesc) == kQueryKeyOffset);
static_assert(offsetof(SslCcsQuery, dwToken) == QueryTokenOffset(HttpConfigId::kSslCcsCertInfo));
static_assert(sizeof(SslCcsQuery) == kSslCcsQuerySize);

static_assert(HttpServiceConfigIPListenList == static_cast<int>(HttpConfigId::kIpListenList));
static_assert(HttpServiceConfigSSLCertInfo == static_cast<int>(HttpConfigId::kSslCertInfo));
static_assert(HttpServiceConfigUrlAclInfo == static_cast<int>(HttpConfigId::kUrlAclInfo));
static_assert(HttpServiceConfigQueryNext == kQueryNext);
static_assert(AF_INET == kAfInet && AF_INET6 == kAfInet6);
static_assert(ERROR_SUCCESS == kErrorSuccess && ERROR_FILE_NOT_FOUND == kErrorFileNotFound &&
              ERROR_INVALID_PARAMETER == kErrorInvalidParameter &&
              ERROR_INSUFFICIENT_BUFFER == kErrorInsufficientBuffer &&
              ERROR_MORE_DATA == kErrorMoreData && ERROR_NO_MORE_ITEMS == kErrorNoMoreItems);
static_assert(REG_SZ == kRegSz && REG_BINARY == kRegBinary && REG_MULTI_SZ == kRegMultiSz);

/// FILETIME ticks (100 ns since 1601-01-01) at the Unix epoch.
constexpr int64_t kFileTimeUnixEpoch = 116444736000000000LL;

Error RegistryError(const char* call, std::string_view key, LSTATUS code) {
  return Error{std::string(call) + "(HKLM\\" + std::string(key) +
               ") failed: " + HexCode(static_cast<uint32_t>(code))};
}

/// Opens HKLM\`key` for reading values; a missing key is not an error (nullptr).
Expected<HKEY> OpenKey(std::string_view key) {
  HKEY h = nullptr;
  LSTATUS rc = RegOpenKeyExW(HKEY_LOCAL_MACHINE, Wide(key).c_str(), 0,
                             KEY_QUERY_VALUE | KEY_WOW64_64KEY, &h);
  if (rc == ERROR_FILE_NOT_FOUND) return static_cast<HKEY>(nullptr);
  if (rc != ERROR_SUCCESS) return RegistryError("RegOpenKeyExW", key, rc);
  return h;
}

class WindowsHttpSysPlatform : public HttpSysPlatform {
 public:
  uint32_t HttpInitializeConfig() override {
    HTTPAPI_VERSION version = HTTPAPI_VERSION_1;
    return HttpInitialize(version, HTTP_INITIALIZE_CONFIG, nullptr);
  }

  void HttpTerminateConfig() override { HttpTerminate(HTTP_INITIALIZE_CONFIG, nullptr); }

  uint32_t HttpQueryServiceConfiguration(uint32_t config_id, std::span<const uint8_t> input,
                                         std::span<uint8_t> output,
                                         uint32_t& return_length) override {
    ULONG length = 0;
    // The API takes the input as a non-const PVOID but only reads it.
    ULONG rc = ::HttpQueryServiceConfiguration(
        nullptr, static_cast<HTTP_SERVICE_CONFIG_ID>(config_id),
        input.empty() ? nullptr : const_cast<uint8_t*>(input.data()),
        static_cast<ULONG>(input.size()), output.data(), static_cast<ULONG>(output.size()), &length,
        nullptr);
    return_length = length;
    return rc;
  }

  Expected<std::optional<RegistryValue>> ReadRegistryValue(std::string_view key,
                                                           std::string_view name) override {
    auto h = OpenKey(key);
    if (!h) return h.error();
    if (*h == nullptr) return std::optional<RegistryValue>();
    const std::wstring wide_name = Wide(name);
    RegistryValue value;
    value.name = std::string(name);
    DWORD size = 0;
    LSTATUS rc = RegQueryValueExW(*h, wide_name.c_str(), nullptr, nullptr, nullptr, &size);
    // The value can grow between the size query and the read; then read again.
    bool read = false;
    for (int attempt = 0; attempt < 4 && rc == ERROR_SUCCESS && !read; ++attempt) {
      value.data.resize(size);
      DWORD type = 0;
      DWORD got = size;
      rc = RegQueryValueExW(*h, wide_name.c_str(), nullptr, &type,
                            value.data.empty() ? nullptr : value.data.data(), &got);
      if (rc == ERROR_MORE_DATA) {
        size = got;
        rc = ERROR_SUCCESS;
        continue;
      }
      value.type = type;
      value.data.resize(got);
      read = rc == ERROR_SUCCESS;
    }
    if (rc == ERROR_SUCCESS && !read) rc = ERROR_MORE_DATA;
    RegCloseKey(*h);
    if (rc == ERROR_FILE_NOT_FOUND) return std::optional<RegistryValue>();
    if (rc != ERROR_SUCCESS) {
      return RegistryError("RegQueryValueExW", std::string(key) + "\\" + std::string(name), rc);
    }
    return std::optional<RegistryValue>(std::move(value));
  }

  Expected<std::vector<RegistryValue>> ReadRegistryValues(std::string_view key) override {
    auto h = OpenKey(key);
    if (!h) return h.error();
    std::vector<RegistryValue> values;
    if (*h == nullptr) return values;
    DWORD max_name = 0, max_data = 0;
    LSTATUS rc = RegQueryInfoKeyW(*h, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                  &max_name, &max_data, nullptr, nullptr);
    std::vector<wchar_t> name(max_name + 1);
    std::vector<uint8_t> data(max_data);
    for (DWORD index = 0; rc == ERROR_SUCCESS;) {
      DWORD name_length = static_cast<DWORD>(name.size());
      DWORD size = static_cast<DWORD>(data.size());
      DWORD type = 0;
      rc = RegEnumValueW(*h, index, name.data(), &name_length, nullptr, &type,
                         data.empty() ? nullptr : data.data(), &size);
      if (rc == ERROR_MORE_DATA) {
        // A value was added or grew since RegQueryInfoKeyW; grow and read it again.
        name.resize(name.size() * 2 + 256);
        data.resize(std::max<size_t>(data.size() * 2, size));
        rc = ERROR_SUCCESS;
        continue;
      }
      if (rc != ERROR_SUCCESS) break;
      values.push_back({Utf8(std::wstring_view(name.data(), name_length)), type,
                        std::vector<uint8_t>(data.begin(), data.begin() + size)});
      ++index;
    }
    RegCloseKey(*h);
    if (rc != ERROR_NO_MORE_ITEMS) return RegistryError("RegEnumValueW", key, rc);
    return values;
  }

  Expected<CommandOutput> RunNetsh(std::string_view arguments,
                                   std::chrono::milliseconds timeout) override {
    // The full path: a netsh.exe earlier on PATH (or in the working directory) is not ours.
    wchar_t system[MAX_PATH];
    UINT n = GetSystemDirectoryW(system, MAX_PATH);
    if (n == 0 || n >= MAX_PATH) {
      return Error{"GetSystemDirectoryW failed: " + HexCode(GetLastError())};
    }
    auto result = RunProcess(Utf8(system) + "\\netsh.exe", arguments, timeout);
    if (!result) return result.error();
    return CommandOutput{result->exit_code, OemToUtf8(result->output)};
  }

  std::map<uint32_t, ProcessIdentity> Processes() override {
    std::map<uint32_t, ProcessIdentity> out;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap != INVALID_HANDLE_VALUE) {
      PROCESSENTRY32W entry{};
      entry.dwSize = sizeof entry;
      for (BOOL ok = Process32FirstW(snap, &entry); ok; ok = Process32NextW(snap, &entry)) {
        out[entry.th32ProcessID].name = Utf8(entry.szExeFile);
      }
      CloseHandle(snap);
    }
    SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ENUMERATE_SERVICE);
    if (scm == nullptr) return out;
    std::vector<uint8_t> buf(64 * 1024);
    DWORD needed = 0, count = 0, resume = 0;
    for (;;) {
      BOOL ok = EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_ACTIVE,
                                      buf.data(), static_cast<DWORD>(buf.size()), &needed, &count,
                                      &resume, nullptr);
      DWORD error = ok ? ERROR_SUCCESS : GetLastError();
      auto* rows = reinterpret_cast<ENUM_SERVICE_STATUS_PROCESSW*>(buf.data());
      for (DWORD i = 0; i < count; ++i) {
        DWORD pid = rows[i].ServiceStatusProcess.dwProcessId;
        if (pid != 0) out[pid].services.push_back(Utf8(rows[i].lpServiceName));
      }
      if (ok || error != ERROR_MORE_DATA) break;
      if (needed > buf.size()) buf.resize(needed);
    }
    CloseServiceHandle(scm);
    for (auto& [pid, identity] : out) {
      std::sort(identity.services.begin(), identity.services.end());
    }
    return out;
  }

  std::string AccountName(std::string_view sid_text) override {
    PSID sid = nullptr;
    if (!ConvertStringSidToSidW(Wide(sid_text).c_str(), &sid)) return {};
    wchar_t name[256], domain[256];
    DWORD name_length = 256, domain_length = 256;
    SID_NAME_USE use;
    std::string out;
    if (LookupAccountSidW(nullptr, sid, name, &name_length, domain, &domain_length, &use)) {
      std::string d = Utf8(domain);
      out = d.empty() ? Utf8(name) : d + "\\" + Utf8(name);
    }
    LocalFree(sid);
    return out;
  }

  std::optional<int64_t> CertificateNotAfter(std::string_view store,
                                             std::string_view sha1_hex) override {
    if (sha1_hex.size() != 40) return std::nullopt;
    BYTE hash[20];
    for (size_t i = 0; i < 20; ++i) {
      unsigned byte = 0;
      if (std::sscanf(std::string(sha1_hex.substr(2 * i, 2)).c_str(), "%2x", &byte) != 1) {
        return std::nullopt;
      }
      hash[i] = static_cast<BYTE>(byte);
    }
    const std::wstring store_name = Wide(store);
    HCERTSTORE h = CertOpenStore(
        CERT_STORE_PROV_SYSTEM_W, 0, 0,
        CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG,
        store_name.c_str());
    if (h == nullptr) return std::nullopt;
    CRYPT_HASH_BLOB blob{sizeof hash, hash};
    PCCERT_CONTEXT cert = CertFindCertificateInStore(h, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0,
                                                     CERT_FIND_SHA1_HASH, &blob, nullptr);
    std::optional<int64_t> out;
    if (cert != nullptr) {
      const FILETIME& t = cert->pCertInfo->NotAfter;
      int64_t ticks =
          static_cast<int64_t>(static_cast<uint64_t>(t.dwHighDateTime) << 32 | t.dwLowDateTime);
      out = (ticks - kFileTimeUnixEpoch) / 10000000;
      CertFreeCertificateContext(cert);
    }
    CertCloseStore(h, 0);
    return out;
  }
};

}  // namespace

std::unique_ptr<HttpSysPlatform> MakeHttpSysPlatform() {
  return std::make_unique<WindowsHttpSysPlatform>();
}

}  // namespace portwarden::httpsys
