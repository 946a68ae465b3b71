#pragma once

// --web.config.file: the Prometheus exporter-toolkit web configuration (TLS, basic auth,
// security headers), so a file written for node_exporter or Prometheus works here too.

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/common/expected.h"

namespace portwarden {

/// tls_server_config.client_auth_type. The toolkit's RequestClientCert and
/// RequireAnyClientCert (a client certificate nobody verifies) are refused: CivetWeb can only
/// ask for certificates it verifies, and an unverified one proves nothing.
enum class ClientAuth {
  kNoClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

/// tls_server_config.min_version: "TLS10" .. "TLS13", TLS12 by default as in the toolkit.
enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

/// tls_server_config. Paths are resolved against the web config file's directory.
struct TlsServerConfig {
  std::string cert_file;       ///< PEM certificate, optionally followed by its chain
  std::string key_file;        ///< PEM private key
  std::string client_ca_file;  ///< PEM CAs that client certificates must chain to
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
};

/// The parsed web config. An empty file is valid: plain HTTP, no auth, default headers.
struct WebConfig {
  std::optional<TlsServerConfig> tls;
  std::map<std::string, std::string> basic_auth_users;  ///< user -> bcrypt hash
  /// http_server_config.headers, in file order; names and values are validated.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Parses web config text. `file_name` names the file in errors and anchors relative paths.
/// Errors read "file:line:column: path: what was expected". Never throws. On Windows a
/// tls_server_config or basic_auth_users section is an error: that build has neither
/// OpenSSL nor a bcrypt implementation.
///
/// ```yaml
/// tls_server_config:
///   cert_file: server.crt                       # required with tls_server_config
///   key_file: server.key                        # required with tls_server_config
///   client_ca_file: clients-ca.crt              # needed by the Verify* auth types
///   client_auth_type: RequireAndVerifyClientCert  # NoClientCert (default),
///                                               # VerifyClientCertIfGiven
///   min_version: TLS12                          # TLS10, TLS11, TLS12 (default), TLS13
/// basic_auth_users:
///   prometheus: $2y$10$...                      # bcrypt ($2a$, $2b$, $2y$)
/// http_server_config:
///   headers:
///     Strict-Transport-Security: max-age=31536000
///     X-Frame-Options: deny                     # deny | sameorigin
///     X-Content-Type-Options: nosniff           # nosniff only
///     X-XSS-Protection: 1; mode=block
///     Content-Security-Policy: default-src 'self'
/// ```
Expected<WebConfig> ParseWebConfig(std::string_view yaml, std::string_view file_name);

/// Reads and parses a web config file.
Expected<WebConfig> LoadWebConfig(const std::string& path);

/// A user name and password from an Authorization header.
struct BasicCredentials {
  std::string user;
  std::string password;
};

/// Decodes an `Authorization: Basic <base64(user:password)>` header value (scheme
/// case-insensitive, strict base64). nullopt for any other scheme or malformed value.
/// Pure; input is attacker-controlled, so it never reads past `header`.
std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header);

/// Compares two strings in time that depends on their lengths only, not on where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

#ifndef _WIN32
/// Checks basic-auth credentials against the configured bcrypt hashes. A wrong password and
/// an unknown user cost the same bcrypt run (an unknown user is checked against a
/// configured hash), and the hash output is compared in constant time. Successful checks are
/// cached (at most kCacheSize) under a SHA-256 of user, hash and password, as the
/// exporter-toolkit does, so a scrape every few seconds does not pay for bcrypt each time;
/// failures are never cached. Thread-safe. Linux only (libxcrypt).
class BasicAuthenticator {
 public:
  static constexpr size_t kCacheSize = 100;

  /// `users` must be non-empty and hold valid bcrypt hashes (ParseWebConfig checks both).
  explicit BasicAuthenticator(std::map<std::string, std::string> users);

  bool Check(const BasicCredentials& credentials);

 private:
  std::map<std::string, std::string> users_;
  std::mutex mu_;
  std::set<std::string> verified_;  // guarded by mu_; SHA-256 digests of good credentials
};

/// bcrypt verification through libxcrypt: true if `password` hashes to `hash`. Linux only.
bool VerifyBcrypt(std::string_view password, const std::string& hash);
#endif

}  // namespace portwarden
