#include "exporter/web_config.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#ifndef _WIN32
#include <crypt.h>
#include <openssl/evp.h>
#endif

#include "collectors/common/text.h"
#include "exporter/yaml_reader.h"

namespace portwarden {
namespace {

constexpr std::array<std::pair<std::string_view, ClientAuth>, 3> kClientAuthNames = {{
    {"NoClientCert", ClientAuth::kNoClientCert},
    {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
    {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
}};

constexpr std::array<std::pair<std::string_view, TlsVersion>, 4> kTlsVersionNames = {{
    {"TLS10", TlsVersion::kTls10},
    {"TLS11", TlsVersion::kTls11},
    {"TLS12", TlsVersion::kTls12},
    {"TLS13", TlsVersion::kTls13},
}};

/// The headers the exporter-toolkit lets a web config set, with their allowed values (empty:
/// any). Others are refused: a config must not be able to override Content-Type or
/// Content-Length and corrupt the responses.
struct AllowedHeader {
  std::string_view name;
  std::vector<std::string_view> values;
};
const std::array<AllowedHeader, 5>& AllowedHeaders() {
  static const std::array<AllowedHeader, 5> kHeaders = {{
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  }};
  return kHeaders;
}


/// "$2a$", "$2b$" or "$2y$", a two-digit cost 04-31, "$", then 53 characters of bcrypt's
/// base64 alphabet (22 of salt, 31 of hash).
bool IsBcryptHash(std::string_view h) {
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') ||
      h[3] != '$' || h[6] != '$') {
    return false;
  }
  if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (char c : h.substr(7)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

class WebConfigReader : public YamlReader {
 public:
  WebConfigReader(std::string_view file_name)
      : YamlReader(file_name), dir_(std::filesystem::path(file_name).parent_path()) {}

  Expected<WebConfig> Read(const YAML::Node& root) const {
    WebConfig config;
    if (root.IsNull()) return config;
    if (auto e = CheckKeys(root, "", {"tls_server_config", "basic_auth_users", "http_server_config"},
                           "a mapping")) {
      return *e;
    }
    if (YAML::Node tls = root["tls_server_config"]) {
      auto parsed = ReadTls(tls);
      if (!parsed) return parsed.error();
      config.tls = std::move(*parsed);
    }
    if (YAML::Node users = root["basic_auth_users"]) {
      auto parsed = ReadUsers(users);
      if (!parsed) return parsed.error();
      config.basic_auth_users = std::move(*parsed);
    }
    if (YAML::Node http = root["http_server_config"]) {
      if (auto e = CheckKeys(http, "http_server_config", {"headers"}, "a mapping")) return *e;
      if (YAML::Node headers = http["headers"]) {
        auto parsed = ReadHeaders(headers);
        if (!parsed) return parsed.error();
        config.headers = std::move(*parsed);
      }
    }
#ifdef _WIN32
    // No OpenSSL and no bcrypt implementation exist for the MinGW build, and a config that
    // asks for TLS or auth must not silently serve plain, open HTTP.
    if (config.tls) {
      return Fail(root["tls_server_config"], "tls_server_config",
                  "not supported: the Windows build of portwarden has no TLS (built without "
                  "OpenSSL); terminate TLS in a reverse proxy in front of it");
    }
    if (!config.basic_auth_users.empty()) {
      return Fail(root["basic_auth_users"], "basic_auth_users",
                  "not supported: the Windows build of portwarden has no bcrypt implementation; "
                  "authenticate in a reverse proxy in front of it");
    }
#endif
    return config;
  }

 private:
  Expected<std::string> ReadPath(const YAML::Node& node, std::string_view path) const {
    auto text = ReadString(node, path);
    if (!text) return text;
    std::filesystem::path p(*text);
    // Relative to the web config file, as the exporter-toolkit resolves them.
    return p.is_absolute() ? p.string() : (dir_ / p).string();
  }

  Expected<TlsServerConfig> ReadTls(const YAML::Node& tls) const {
    if (auto e = CheckKeys(tls, "tls_server_config",
                           {"cert_file", "key_file", "client_ca_file", "client_auth_type",
                            "min_version"},
                           "a mapping")) {
      return *e;
    }
    TlsServerConfig t;
    for (auto [key, field] : {std::pair{"cert_file", &t.cert_file},
                              std::pair{"key_file", &t.key_file},
                              std::pair{"client_ca_file", &t.client_ca_file}}) {
      if (YAML::Node n = tls[key]) {
        auto path = ReadPath(n, std::string("tls_server_config.") + key);
        if (!path) return path.error();
        *field = std::move(*path);
      }
    }
    if (t.cert_file.empty() || t.key_file.empty()) {
      return Fail(tls, "tls_server_config",
                  std::string("missing ") + (t.cert_file.empty() ? "cert_file" : "key_file") +
                      " (both cert_file and key_file are required)");
    }
    if (YAML::Node n = tls["client_auth_type"]) {
      auto text = ReadString(n, "tls_server_config.client_auth_type");
      if (!text) return text.error();
      bool known = false;
      for (const auto& [name, value] : kClientAuthNames) {
        if (*text == name) {
          t.client_auth = value;
          known = true;
        }
      }
      if (!known) {
        return Fail(n, "tls_server_config.client_auth_type",
                    "invalid value " + Quote(*text) +
                        " (expected NoClientCert, VerifyClientCertIfGiven or "
                        "RequireAndVerifyClientCert; RequestClientCert and RequireAnyClientCert "
                        "accept unverified certificates and are not supported)");
      }
      if (t.client_auth != ClientAuth::kNoClientCert && t.client_ca_file.empty()) {
        return Fail(n, "tls_server_config.client_auth_type",
                    Quote(*text) + " needs client_ca_file to verify client certificates against");
      }
    }
    if (!t.client_ca_file.empty() && t.client_auth == ClientAuth::kNoClientCert) {
      return Fail(tls["client_ca_file"], "tls_server_config.client_ca_file",
                  "client CAs are configured but client_auth_type is NoClientCert (set "
                  "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
    }
    if (YAML::Node n = tls["min_version"]) {
      auto text = ReadString(n, "tls_server_config.min_version");
      if (!text) return text.error();
      bool known = false;
      for (const auto& [name, value] : kTlsVersionNames) {
        if (*text == name) {
          t.min_version = value;
          known = true;
        }
      }
      if (!known) {
        return Fail(n, "tls_server_config.min_version",
                    "invalid value " + Quote(*text) + " (expected TLS10, TLS11, TLS12 or TLS13)");
      }
    }
    return t;
  }

  Expected<std::map<std::string, std::string>> ReadUsers(const YAML::Node& users) const {
    if (!users.IsMap()) {
      return Fail(users, "basic_auth_users",
                  "expected a mapping of user names to bcrypt hashes, got " + YamlDescribe(users));
    }
    std::map<std::string, std::string> out;
    for (const auto& item : users) {
      auto user = ReadString(item.first, "basic_auth_users");
      if (!user) return user.error();
      const std::string path = "basic_auth_users." + *user;
      // Basic auth splits "user:password" at the first colon: such a user could never log in.
      if (user->find(':') != std::string::npos) {
        return Fail(item.first, path, "a user name cannot contain ':'");
      }
      auto hash = ReadString(item.second, path);
      if (!hash) return hash.error();
      // The hash is not quoted back: error messages end up in logs.
      if (!IsBcryptHash(*hash)) {
        return Fail(item.second, path,
                    "expected a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 characters, "
                    "e.g. from `htpasswd -nBC 10 USER`)");
      }
      if (!out.emplace(*user, *hash).second) return Fail(item.first, path, "duplicate user");
    }
    return out;
  }

  Expected<std::vector<std::pair<std::string, std::string>>> ReadHeaders(
      const YAML::Node& headers) const {
    std::string allowed_text;
    for (const auto& h : AllowedHeaders()) {
      allowed_text += (allowed_text.empty() ? "" : ", ") + std::string(h.name);
    }
    if (!headers.IsMap()) {
      return Fail(headers, "http_server_config.headers",
                  "expected a mapping of header names to values, got " + YamlDescribe(headers));
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& item : headers) {
      auto name = ReadString(item.first, "http_server_config.headers");
      if (!name) return name.error();
      const std::string path = "http_server_config.headers." + *name;
      const AllowedHeader* allowed = nullptr;
      for (const auto& h : AllowedHeaders()) {
        if (h.name == *name) allowed = &h;
      }
      if (allowed == nullptr) {
        return Fail(item.first, path,
                    "this header cannot be configured (expected one of: " + allowed_text + ")");
      }
      for (const auto& [seen, value] : out) {
        if (seen == *name) return Fail(item.first, path, "duplicate key");
      }
      auto value = ReadString(item.second, path);
      if (!value) return value.error();
      for (unsigned char c : *value) {
        // CR/LF would let the config inject headers or split the response.
        if (c < 0x20 || c == 0x7f) return Fail(item.second, path, "control characters are not allowed");
      }
      if (!allowed->values.empty()) {
        bool ok = false;
        std::string expected;
        for (std::string_view v : allowed->values) {
          ok = ok || EqualsIgnoreCase(*value, v);
          expected += (expected.empty() ? "" : " or ") + std::string(v);
        }
        if (!ok) {
          return Fail(item.second, path, "invalid value " + Quote(*value) + " (expected " + expected + ")");
        }
      }
      out.emplace_back(*name, *value);
    }
    return out;
  }

  std::filesystem::path dir_;
};

/// Decodes standard base64 with padding; nullopt on any other character or length.
std::optional<std::string> DecodeBase64(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t group = 0;
    int padding = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = in[i + j];
      uint32_t v;
      if (c >= 'A' && c <= 'Z') v = static_cast<uint32_t>(c - 'A');
      else if (c >= 'a' && c <= 'z') v = static_cast<uint32_t>(c - 'a' + 26);
      else if (c >= '0' && c <= '9') v = static_cast<uint32_t>(c - '0' + 52);
      else if (c == '+') v = 62;
      else if (c == '/') v = 63;
      else if (c == '=' && i + 4 == in.size() && j >= 2) {
        ++padding;
        v = 0;
      } else {
        return std::nullopt;
      }
      // "=" must only trail: "ab=c" is invalid.
      if (padding > 0 && c != '=') return std::nullopt;
      group = (group << 6) | v;
    }
    out += static_cast<char>((group >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((group >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(group & 0xff);
  }
  return out;
}

#ifndef _WIN32
std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(digest), size);
}
#endif

}  // namespace

Expected<WebConfig> ParseWebConfig(std::string_view yaml, std::string_view file_name) {
  try {
    return WebConfigReader(file_name).Read(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return Error{YamlPlace(file_name, e.mark) + ": invalid YAML: " + e.msg};
  }
}

Expected<WebConfig> LoadWebConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{path + ": cannot open web config file"};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseWebConfig(ss.str(), path);
}

std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header) {
  constexpr std::string_view kPrefix = "Basic ";
  if (header.size() < kPrefix.size() || !EqualsIgnoreCase(header.substr(0, kPrefix.size()), kPrefix)) {
    return std::nullopt;
  }
  auto decoded = DecodeBase64(header.substr(kPrefix.size()));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer string is visited whatever the contents.
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

#ifndef _WIN32
bool VerifyBcrypt(std::string_view password, const std::string& hash) {
  // crypt_rn reads a C string: a password with a NUL would be checked only up to it.
  if (password.find('\0') != std::string_view::npos) return false;
  const std::string phrase(password);
  // crypt_data is ~32 KiB: on the heap rather than on a CivetWeb worker's stack.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof *data);
  return out != nullptr && ConstantTimeEquals(out, hash);
}

BasicAuthenticator::BasicAuthenticator(std::map<std::string, std::string> users)
    : users_(std::move(users)) {}

bool BasicAuthenticator::Check(const BasicCredentials& credentials) {
  auto it = users_.find(credentials.user);
  const bool known = it != users_.end();
  // An unknown user is checked against a configured hash, so it costs the same bcrypt run
  // as a wrong password and the response time does not tell which user names exist.
  const std::string& hash = known ? it->second : users_.begin()->second;
  // Length-prefixed so that no two (user, password) pairs share a key; the hash is fixed-size.
  const std::string key = Sha256(std::to_string(credentials.user.size()) + ":" +
                                 credentials.user + hash + credentials.password);
  // An empty key (the digest failed) must never be cached: it would match every password.
  const bool cacheable = !key.empty();
  if (known && cacheable) {
    std::lock_guard lock(mu_);
    if (verified_.contains(key)) return true;
  }
  const bool ok = VerifyBcrypt(credentials.password, hash) && known;
  if (ok && cacheable) {
    std::lock_guard lock(mu_);
    // Digests are uniformly distributed, so dropping the smallest is a random eviction.
    if (verified_.size() >= kCacheSize) verified_.erase(verified_.begin());
    verified_.insert(key);
  }
  return ok;
}
#endif

}  // namespace portwarden
