#include "exporter/web_config.h"

#include <gtest/gtest.h>

namespace portwarden {
namespace {

// Made with libxcrypt (crypt_gensalt_rn + crypt_rn) at cost 4 to keep the tests fast.
constexpr const char* kSecret2b = "$2b$04$Q6ifT2DtnXuymxtmXbPAx.9Qte2wU.qFO7CecWjJcQQzeOEy7jQ1O";
constexpr const char* kColonUmlaut2y =  // password "pa:ss wörd"
    "$2y$04$uxDWyXblb7JfZfhWzgNWR.haPjV2NDeYGNMAm50wzAuXPZp.Pkjr.";
constexpr const char* kHunter2a = "$2a$04$SaU6Regp98JzJJrHu4QnZeUiugp1jMPlqDHKlu6bdKACQ/e16h7/e";

TEST(ParseWebConfig, EmptyIsPlainHttp) {
  auto c = ParseWebConfig("", "/etc/web.yml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->tls);
  EXPECT_TRUE(c->basic_auth_users.empty());
  EXPECT_TRUE(c->headers.empty());
}

TEST(ParseWebConfig, HeadersOnEveryPlatform) {
  auto c = ParseWebConfig(R"(
http_server_config:
  headers:
    X-Frame-Options: DENY
    Strict-Transport-Security: max-age=31536000; includeSubDomains
    Content-Security-Policy: default-src 'self'
)", "w.yml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->headers.size(), 3u);
  EXPECT_EQ(c->headers[0].first, "X-Frame-Options");
  EXPECT_EQ(c->headers[0].second, "DENY");
  EXPECT_EQ(c->headers[1].second, "max-age=31536000; includeSubDomains");
}

#ifndef _WIN32
TEST(ParseWebConfig, FullFileResolvesPathsAgainstTheConfigDirectory) {
  auto c = ParseWebConfig(std::string(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /etc/keys/server.key
  client_ca_file: ca/clients.pem
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS13
basic_auth_users:
  prometheus: )") + kSecret2b + R"(
  "grafana": ')" + kHunter2a + R"('
)", "/etc/portwarden/web.yml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->tls);
  EXPECT_EQ(c->tls->cert_file, "/etc/portwarden/server.crt");
  EXPECT_EQ(c->tls->key_file, "/etc/keys/server.key");
  EXPECT_EQ(c->tls->client_ca_file, "/etc/portwarden/ca/clients.pem");
  EXPECT_EQ(c->tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(c->tls->min_version, TlsVersion::kTls13);
  ASSERT_EQ(c->basic_auth_users.size(), 2u);
  EXPECT_EQ(c->basic_auth_users.at("prometheus"), kSecret2b);
  EXPECT_EQ(c->basic_auth_users.at("grafana"), kHunter2a);
}

TEST(ParseWebConfig, TlsDefaults) {
  auto c = ParseWebConfig("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n", "w.yml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->tls->cert_file, "a.crt");  // no directory in the file name: as given
  EXPECT_EQ(c->tls->client_auth, ClientAuth::kNoClientCert);
  EXPECT_EQ(c->tls->min_version, TlsVersion::kTls12);
}
#else
TEST(ParseWebConfig, WindowsRefusesTlsAndAuth) {
  auto tls = ParseWebConfig("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n", "w.yml");
  ASSERT_FALSE(tls);
  EXPECT_EQ(tls.error().message.rfind("w.yml:2:3: tls_server_config: not supported: the Windows "
                                      "build of portwarden has no TLS", 0),
            0u)
      << tls.error().message;
  auto auth = ParseWebConfig(std::string("basic_auth_users:\n  u: ") + kSecret2b + "\n", "w.yml");
  ASSERT_FALSE(auth);
  EXPECT_NE(auth.error().message.find("w.yml:2:3: basic_auth_users: not supported"),
            std::string::npos)
      << auth.error().message;
}
#endif

TEST(ParseWebConfig, ErrorsNameFileLineColumn) {
  const std::string hash = kSecret2b;
  struct Case {
    std::string yaml;
    std::string message;
  } cases[] = {
      {"tls_config: {}\n",
       "w.yml:1:1: tls_config: unknown key (expected one of: tls_server_config, "
       "basic_auth_users, http_server_config)"},
      {"tls_server_config:\n  cert_file: a.crt\n",
       "w.yml:2:3: tls_server_config: missing key_file (both cert_file and key_file are "
       "required)"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS13\n",
       "w.yml:4:3: tls_server_config.max_version: unknown key (expected one of: cert_file, "
       "key_file, client_ca_file, client_auth_type, min_version)"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
       "w.yml:4:16: tls_server_config.min_version: invalid value \"TLS14\" (expected TLS10, "
       "TLS11, TLS12 or TLS13)"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAnyClientCert\n",
       "w.yml:4:21: tls_server_config.client_auth_type: invalid value \"RequireAnyClientCert\" "
       "(expected NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert; "
       "RequestClientCert and RequireAnyClientCert accept unverified certificates and are not "
       "supported)"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: "
       "VerifyClientCertIfGiven\n",
       "w.yml:4:21: tls_server_config.client_auth_type: \"VerifyClientCertIfGiven\" needs "
       "client_ca_file to verify client certificates against"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca.pem\n",
       "w.yml:4:19: tls_server_config.client_ca_file: client CAs are configured but "
       "client_auth_type is NoClientCert (set VerifyClientCertIfGiven or "
       "RequireAndVerifyClientCert)"},
      {"basic_auth_users:\n  alice: secret\n",
       "w.yml:2:10: basic_auth_users.alice: expected a bcrypt hash ($2a$, $2b$ or $2y$, cost "
       "04-31, 60 characters, e.g. from `htpasswd -nBC 10 USER`)"},
      {"basic_auth_users:\n  alice: " + hash.substr(0, 59) + "\n",
       "w.yml:2:10: basic_auth_users.alice: expected a bcrypt hash ($2a$, $2b$ or $2y$, cost "
       "04-31, 60 characters, e.g. from `htpasswd -nBC 10 USER`)"},
      {"basic_auth_users:\n  alice: \"$2b$03" + hash.substr(6) + "\"\n",
       "w.yml:2:10: basic_auth_users.alice: expected a bcrypt hash ($2a$, $2b$ or $2y$, cost "
       "04-31, 60 characters, e.g. from `htpasswd -nBC 10 USER`)"},
      {"basic_auth_users:\n  \"a:b\": " + hash + "\n",
       "w.yml:2:3: basic_auth_users.a:b: a user name cannot contain ':'"},
      {"basic_auth_users:\n  alice: " + hash + "\n  alice: " + hash + "\n",
       "w.yml:3:3: basic_auth_users.alice: duplicate user"},
      {"basic_auth_users: [alice]\n",
       "w.yml:1:19: basic_auth_users: expected a mapping of user names to bcrypt hashes, got a "
       "list"},
      {"http_server_config:\n  headers:\n    Content-Type: text/html\n",
       "w.yml:3:5: http_server_config.headers.Content-Type: this header cannot be configured "
       "(expected one of: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
       "X-XSS-Protection, Content-Security-Policy)"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
       "w.yml:3:22: http_server_config.headers.X-Frame-Options: invalid value \"allow\" "
       "(expected deny or sameorigin)"},
      {"http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: a=b\"\n",
       "w.yml:3:23: http_server_config.headers.X-XSS-Protection: control characters are not "
       "allowed"},
      {"http_server_config:\n  http2: false\n",
       "w.yml:2:3: http_server_config.http2: unknown key (expected one of: headers)"},
      {"tls_server_config: [\n", "w.yml:2:1: invalid YAML: end of sequence flow not found"},
  };
  for (const auto& c : cases) {
    auto r = ParseWebConfig(c.yaml, "w.yml");
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_EQ(r.error().message, c.message) << c.yaml;
  }
}

TEST(LoadWebConfig, MissingFile) {
  auto r = LoadWebConfig("/nonexistent/web.yml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "/nonexistent/web.yml: cannot open web config file");
}

TEST(ParseBasicAuthorization, DecodesUserAndPassword) {
  auto c = ParseBasicAuthorization("Basic cHJvbWV0aGV1czpwYTpzcw==");  // prometheus:pa:ss
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "prometheus");
  EXPECT_EQ(c->password, "pa:ss");
  auto lower = ParseBasicAuthorization("basic dTpw");  // u:p, scheme case-insensitive
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->user, "u");
  auto empty = ParseBasicAuthorization("Basic Og==");  // ":"
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->user, "");
  EXPECT_EQ(empty->password, "");
}

TEST(ParseBasicAuthorization, RejectsMalformed) {
  for (const char* bad : {"", "Basic", "Basic ", "Bearer dTpw", "Basic dTpw=", "Basic dT=w",
                          "Basic dXNlcg==",  // "user": no colon
                          "Basic dTpw!", "Basic  dTpw", "Basic =Tpw", "Digest username=\"u\"",
                          "Basic d\xff" "pw"}) {
    EXPECT_FALSE(ParseBasicAuthorization(bad)) << bad;
  }
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", "abc"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0c", 3), "a"));
}

#ifndef _WIN32
TEST(VerifyBcrypt, AllThreePrefixes) {
  EXPECT_TRUE(VerifyBcrypt("secret", kSecret2b));
  EXPECT_TRUE(VerifyBcrypt("pa:ss w\xc3\xb6rd", kColonUmlaut2y));
  EXPECT_TRUE(VerifyBcrypt("hunter2", kHunter2a));
  EXPECT_FALSE(VerifyBcrypt("secreT", kSecret2b));
  EXPECT_FALSE(VerifyBcrypt("", kSecret2b));
  EXPECT_FALSE(VerifyBcrypt(std::string_view("secret\0x", 8), kSecret2b));
  EXPECT_FALSE(VerifyBcrypt(std::string(100000, 'a'), kSecret2b));
}

TEST(BasicAuthenticator, ChecksUserAndPasswordAndCachesOnlySuccess) {
  BasicAuthenticator auth({{"prometheus", kSecret2b}, {"grafana", kHunter2a}});
  EXPECT_TRUE(auth.Check({"prometheus", "secret"}));
  EXPECT_TRUE(auth.Check({"prometheus", "secret"}));  // from the cache
  EXPECT_FALSE(auth.Check({"prometheus", "hunter2"}));  // another user's password
  EXPECT_FALSE(auth.Check({"grafana", "secret"}));
  EXPECT_TRUE(auth.Check({"grafana", "hunter2"}));
  // An unknown user is checked against a configured hash: even that hash's password fails.
  EXPECT_FALSE(auth.Check({"mallory", "secret"}));
  EXPECT_FALSE(auth.Check({"mallory", "hunter2"}));
  EXPECT_FALSE(auth.Check({"", ""}));
  EXPECT_FALSE(auth.Check({"prometheus", "secret "}));
}

TEST(BasicAuthenticator, CacheEvictsAndStaysCorrect) {
  // More users than the cache holds, all with one hash: every good check is cached.
  std::map<std::string, std::string> users;
  for (size_t i = 0; i < BasicAuthenticator::kCacheSize + 20; ++i) {
    users["user" + std::to_string(i)] = kSecret2b;
  }
  BasicAuthenticator many(users);
  for (const auto& [user, hash] : users) EXPECT_TRUE(many.Check({user, "secret"})) << user;
  for (const auto& [user, hash] : users) {
    EXPECT_TRUE(many.Check({user, "secret"})) << user;
    EXPECT_FALSE(many.Check({user, "wrong"})) << user;
  }
}
#endif

}  // namespace
}  // namespace portwarden
