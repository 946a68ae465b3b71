#pragma once

// The thin OS layer of the HTTP.sys collector, as one small interface: the calls it makes and
// nothing else. platform_windows.cpp implements it over httpapi.dll, the registry, netsh, the
// process list, the account database and the certificate store; tests pass a hand-written
// fake, so everything above this line (the HTTP API query loops and record decoding in
// http_config.cpp, the registry decoding in registry.cpp, the collector in collector.cpp) is
// built and tested on every OS. No OS header here.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/common/expected.h"

namespace portwarden::httpsys {

/// One registry value as RegQueryValueExW / RegEnumValueW return it.
struct RegistryValue {
  std::string name;           ///< value name, UTF-8
  uint32_t type = 0;          ///< REG_SZ (1), REG_BINARY (3), REG_MULTI_SZ (7), ...
  std::vector<uint8_t> data;  ///< the raw bytes (UTF-16LE for the string types)
};

/// What a finished child process wrote to stdout, converted to UTF-8.
struct CommandOutput {
  uint32_t exit_code = 0;
  std::string text;
};

/// Name and services of a running process.
struct ProcessIdentity {
  std::string name;                   ///< image name ("svchost.exe"); empty if unknown
  std::vector<std::string> services;  ///< Win32 services it hosts, sorted
  bool operator==(const ProcessIdentity&) const = default;
};

/// The calls the HTTP.sys collector makes into the OS. One instance serves one collection
/// cycle on one thread; implementations need not be thread-safe. No method throws.
class HttpSysPlatform {
 public:
  virtual ~HttpSysPlatform() = default;

  /// HttpInitialize(HTTPAPI_VERSION_1, HTTP_INITIALIZE_CONFIG): a Win32 error code.
  virtual uint32_t HttpInitializeConfig() = 0;
  /// HttpTerminate(HTTP_INITIALIZE_CONFIG), after a successful HttpInitializeConfig.
  virtual void HttpTerminateConfig() = 0;
  /// HttpQueryServiceConfiguration(NULL, config_id, input, output, &return_length, NULL).
  /// `output` is 8-byte aligned; pointers the API stores in it point into it. Returns the
  /// Win32 error code; `return_length` is what the API reported (the size needed on
  /// ERROR_INSUFFICIENT_BUFFER).
  virtual uint32_t HttpQueryServiceConfiguration(uint32_t config_id, std::span<const uint8_t> input,
                                                 std::span<uint8_t> output,
                                                 uint32_t& return_length) = 0;

  /// A value under HKEY_LOCAL_MACHINE\`key` (64-bit view); nullopt if the key or the value
  /// does not exist. Errors name the call, the key and the code in hex.
  virtual Expected<std::optional<RegistryValue>> ReadRegistryValue(std::string_view key,
                                                                   std::string_view name) = 0;
  /// Every value of HKEY_LOCAL_MACHINE\`key`; empty if the key does not exist.
  virtual Expected<std::vector<RegistryValue>> ReadRegistryValues(std::string_view key) = 0;

  /// Runs %SystemRoot%\System32\netsh.exe with `arguments`, killing it after `timeout`.
  /// The output is converted from the console (OEM) code page to UTF-8. Errors: netsh could
  /// not start, or the timeout expired.
  virtual Expected<CommandOutput> RunNetsh(std::string_view arguments,
                                           std::chrono::milliseconds timeout) = 0;

  /// Every running process by PID, with the services it hosts.
  virtual std::map<uint32_t, ProcessIdentity> Processes() = 0;

  /// "DOMAIN\name" of a SID string ("S-1-5-20" -> "NT AUTHORITY\NETWORK SERVICE"); empty if
  /// the SID cannot be resolved.
  virtual std::string AccountName(std::string_view sid) = 0;

  /// NotAfter of the certificate with this SHA-1 thumbprint (40 hex digits) in the local
  /// machine store `store` ("MY"), as Unix seconds; nullopt if it cannot be read.
  virtual std::optional<int64_t> CertificateNotAfter(std::string_view store,
                                                     std::string_view sha1_hex) = 0;
};

/// The Windows implementation. Only built on Windows: the per-platform collector list in
/// exporter/collect.cpp names it there and nowhere else.
std::unique_ptr<HttpSysPlatform> MakeHttpSysPlatform();

}  // namespace portwarden::httpsys
