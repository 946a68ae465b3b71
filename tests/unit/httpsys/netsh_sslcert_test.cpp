#include <gtest/gtest.h>

#include <algorithm>

#include "collectors/httpsys/netsh_parse.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::httpsys {
namespace {

using testing::ReadWindowsFixture;
using testing::WithCrlf;

SslCertList MustParse(std::string_view text) {
  Expected<SslCertList> list = ParseSslCert(text);
  EXPECT_TRUE(list.ok()) << (list.ok() ? "" : list.error().message);
  return list.ok() ? *list : SslCertList{};
}

bool HasOption(const TlsBinding& binding, std::string_view label, std::string_view value) {
  return std::any_of(binding.options.begin(), binding.options.end(),
                     [&](const TlsOption& o) { return o.label == label && o.value == value; });
}

TEST(ParseSslCert, ModernIpPortBindingWithExtendedProperties) {
  SslCertList list = MustParse(ReadWindowsFixture("netsh-sslcert-en-1-ipport-modern.txt"));
  ASSERT_EQ(list.bindings.size(), 1u);
  EXPECT_EQ(list.skipped, 0);
  const TlsBinding& b = list.bindings[0];
  EXPECT_EQ(b.kind, TlsBindingKind::kIpPort);
  EXPECT_EQ(b.endpoint, "0.0.0.0:44307");
  EXPECT_EQ(b.host, "0.0.0.0");
  EXPECT_EQ(b.port, 44307);
  EXPECT_EQ(b.cert_hash, "61d34f532da121bbab64723c4871e72c92f03735");
  EXPECT_EQ(b.app_id, "{214124cd-d05b-4309-9af9-9caa44b2b74a}");
  EXPECT_EQ(b.store, "MY");
  // 19 flag lines from "Verify Client Certificate Revocation" to "Enable Session Ticket",
  // then two "Extended Properties:" headings with 2 and 3 lines.
  EXPECT_EQ(b.options.size(), 19u + 3u + 4u);
  EXPECT_EQ(b.options.front(), (TlsOption{"Verify Client Certificate Revocation", "Enabled"}));
  EXPECT_TRUE(HasOption(b, "Disable HTTP2", "Not Set"));
  EXPECT_TRUE(HasOption(b, "Extended Properties", ""));
  EXPECT_TRUE(HasOption(b, "Receive Window", "1048576"));
  EXPECT_EQ(b.options.back(), (TlsOption{"Max Settings Per Minute", "4294967295"}));
}

TEST(ParseSslCert, AdfsSniBindingAndIpFallback) {
  SslCertList list = MustParse(ReadWindowsFixture("netsh-sslcert-en-6-hostnameport-adfs.txt"));
  ASSERT_EQ(list.bindings.size(), 2u);
  EXPECT_EQ(list.skipped, 0);
  const TlsBinding& sni = list.bindings[0];
  EXPECT_EQ(sni.kind, TlsBindingKind::kHostnamePort);
  EXPECT_EQ(sni.endpoint, "sts.aadtesting.info:443");
  EXPECT_EQ(sni.host, "sts.aadtesting.info");
  EXPECT_EQ(sni.port, 443);
  EXPECT_EQ(sni.cert_hash, "be22839cfff71bab0b118b69b0c8a2e33f02f04d");
  EXPECT_EQ(sni.app_id, "{5d89a20c-beab-4389-9447-324788eb944a}");
  EXPECT_EQ(sni.store, "MY");
  EXPECT_TRUE(HasOption(sni, "Ctl Store Name", "AdfsTrustedDevices"));

  const TlsBinding& ip = list.bindings[1];
  EXPECT_EQ(ip.kind, TlsBindingKind::kIpPort);
  EXPECT_EQ(ip.endpoint, "0.0.0.0:443");
  EXPECT_EQ(ip.cert_hash, sni.cert_hash);
  EXPECT_EQ(ip.options, sni.options);
}

TEST(ParseSslCert, Ipv6CcsAndSniWithCrlf) {
  SslCertList list = MustParse(ReadWindowsFixture("netsh-sslcert-synth-ipv6-ccs-sni.txt"));
  ASSERT_EQ(list.bindings.size(), 3u);
  EXPECT_EQ(list.skipped, 0);

  const TlsBinding& v6 = list.bindings[0];
  EXPECT_EQ(v6.kind, TlsBindingKind::kIpPort);
  EXPECT_EQ(v6.endpoint, "[::]:443");
  EXPECT_EQ(v6.host, "::");
  EXPECT_EQ(v6.cert_hash, "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567");
  EXPECT_EQ(v6.store, "My");
  EXPECT_EQ(v6.options.size(), 9u);
  EXPECT_EQ(v6.options.back(), (TlsOption{"Negotiate Client Certificate", "Disabled"}));

  const TlsBinding& ccs = list.bindings[1];
  EXPECT_EQ(ccs.kind, TlsBindingKind::kCcs);
  EXPECT_EQ(ccs.endpoint, "8443");
  EXPECT_EQ(ccs.host, "");
  EXPECT_EQ(ccs.port, 8443);
  EXPECT_EQ(ccs.cert_hash, "");
  EXPECT_EQ(ccs.store, "");
  EXPECT_TRUE(HasOption(ccs, "Certificate Hash", "(null)"));

  const TlsBinding& sni = list.bindings[2];
  EXPECT_EQ(sni.kind, TlsBindingKind::kHostnamePort);
  EXPECT_EQ(sni.host, "www.contoso.com");
  EXPECT_EQ(sni.store, "WebHosting");
  EXPECT_TRUE(HasOption(sni, "Negotiate Client Certificate", "Enabled"));
}

TEST(ParseSslCert, TruncatedAndAbsurdBindingsAreSkippedAndCounted) {
  SslCertList list = MustParse(
      WithCrlf("    IP:port                      : 0.0.0.0:99999\n"
               "    Certificate Hash             : 61d34f532da121bbab64723c4871e72c92f03735\n"
               "    Application ID               : {214124cd-d05b-4309-9af9-9caa44b2b74a}\n"
               "    Certificate Store Name       : MY\n\n"
               "    IP:port                      : 10.0.0.5:443\n"
               "    Certificate Hash             : 61d34f532da121bbab64723c4871e72c92f0373\n"
               "    Application ID               : {214124cd-d05b-4309-9af9-9caa44b2b74a}\n\n"
               "    IP:port                      : 10.0.0.6:443\n"
               "    Certificate Hash             : 61d34f532da121bbab64723c4871e72c92f03735\n"
               "    Application ID               : {214124cd-d05b-4309-9af9-9caa44b2b74a}\n"
               "    Certificate Store Name       : MY\n\n"
               "    IP:port                      : 10.0.0.7:443\n"
               "    Certificate Hash             : 61d34f532da121bbab64723c4871e72c92f03735\n"));
  ASSERT_EQ(list.bindings.size(), 1u);
  EXPECT_EQ(list.bindings[0].endpoint, "10.0.0.6:443");
  // Port 99999, a 39-digit hash, and a binding cut before its application ID.
  EXPECT_EQ(list.skipped, 3);
}

TEST(ParseSslCert, EmptyListingIsNotAnError) {
  SslCertList list = MustParse("\nSSL Certificate bindings:\n-------------------------\n\n");
  EXPECT_TRUE(list.bindings.empty());
  EXPECT_EQ(list.skipped, 0);
}

TEST(ParseSslCert, UnrecognizableTextIsAnError) {
  Expected<SslCertList> list = ParseSslCert("The system cannot find the file specified.\n");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message.find("netsh http show sslcert"), std::string::npos);
}

}  // namespace
}  // namespace portwarden::httpsys
