#include <gtest/gtest.h>

#include "collectors/httpsys/httpsys.h"
#include "collectors/common/ip_address.h"

namespace portwarden::httpsys {
namespace {

HttpSysUrl MustParse(std::string_view url) {
  Expected<HttpSysUrl> parsed = ParseHttpSysUrl(url);
  EXPECT_TRUE(parsed.ok()) << url << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : HttpSysUrl{};
}

TEST(ParseHttpSysUrl, StrongWildcardReservation) {
  HttpSysUrl url = MustParse("http://+:80/Temporary_Listen_Addresses/");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.host_kind, UrlHostKind::kStrongWildcard);
  EXPECT_EQ(url.host, "+");
  EXPECT_EQ(url.port, 80);
  EXPECT_EQ(url.ip, "");
  EXPECT_EQ(url.path, "/Temporary_Listen_Addresses/");
}

TEST(ParseHttpSysUrl, WeakWildcardHttps) {
  HttpSysUrl url = MustParse("https://*:5358/");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host_kind, UrlHostKind::kWeakWildcard);
  EXPECT_EQ(url.port, 5358);
  EXPECT_EQ(url.path, "/");
}

TEST(ParseHttpSysUrl, UpperCaseRegistrationFromServiceState) {
  HttpSysUrl url = MustParse("HTTP://+:47001/WSMAN/");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.port, 47001);
  EXPECT_EQ(url.path, "/WSMAN/");
}

TEST(ParseHttpSysUrl, IpBoundForm) {
  HttpSysUrl url = MustParse("HTTP://127.0.0.1:8000:127.0.0.1/");
  EXPECT_EQ(url.host_kind, UrlHostKind::kIpv4);
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 8000);
  EXPECT_EQ(url.ip, "127.0.0.1");
  EXPECT_EQ(url.path, "/");
}

TEST(ParseHttpSysUrl, Ipv6HostAndIpBoundIpv6) {
  HttpSysUrl bare = MustParse("http://[FE80::1]:8080/app/");
  EXPECT_EQ(bare.host_kind, UrlHostKind::kIpv6);
  EXPECT_EQ(bare.host, "[fe80::1]");
  EXPECT_EQ(bare.ip, "");

  HttpSysUrl bracketed = MustParse("HTTP://[::1]:80:[::1]/");
  EXPECT_EQ(bracketed.ip, "::1");
  HttpSysUrl unbracketed = MustParse("HTTP://[::1]:80:::1/");
  EXPECT_EQ(unbracketed.ip, "::1");
}

TEST(ParseHttpSysUrl, HostNameIsLowerCased) {
  HttpSysUrl url = MustParse("HTTP://LOCALHOST:8080/");
  EXPECT_EQ(url.host_kind, UrlHostKind::kHostname);
  EXPECT_EQ(url.host, "localhost");
}

TEST(ParseHttpSysUrl, RejectsBadInputWithSpecificMessages) {
  struct Case {
    std::string_view url;
    std::string_view message_part;
  };
  for (const Case& c : {
           Case{"ftp://+:21/", "unsupported scheme"},
           Case{"+:80/", "expected scheme://"},
           Case{"http://+:80", "missing path"},
           Case{"https://+:443/sra_{BA195980-CD49-458b-9E23-C84EE0", "does not end with '/'"},
           Case{"http://+:99999/", "1-65535"},
           Case{"http://+:0/", "1-65535"},
           Case{"http://+/", "missing port"},
           Case{"http://:80/", "empty host"},
           Case{"http://[::1:80/", "unterminated"},
           Case{"http://[1.2.3.4]:80/", "bad IPv6"},
           Case{"http://ho st:80/", "bad host"},
           Case{"http://+:80:10.0.0.300/", "bad IP after the port"},
           Case{"", "expected scheme://"},
       }) {
    Expected<HttpSysUrl> parsed = ParseHttpSysUrl(c.url);
    ASSERT_FALSE(parsed.ok()) << c.url;
    EXPECT_NE(parsed.error().message.find(c.message_part), std::string::npos)
        << c.url << " -> " << parsed.error().message;
  }
}

TEST(UrlCoversEndpoint, WildcardsAndHostNamesCoverEveryAddressOfThePort) {
  for (std::string_view text : {"http://+:80/", "http://*:80/", "HTTP://LOCALHOST:80/"}) {
    HttpSysUrl url = MustParse(text);
    EXPECT_TRUE(UrlCoversEndpoint(url, "0.0.0.0", 80)) << text;
    EXPECT_TRUE(UrlCoversEndpoint(url, "[::]", 80)) << text;
    EXPECT_TRUE(UrlCoversEndpoint(url, "192.168.33.2", 80)) << text;
    EXPECT_FALSE(UrlCoversEndpoint(url, "0.0.0.0", 8080)) << text;
  }
}

TEST(UrlCoversEndpoint, IpBoundCoversItsIpAndTheWildcardOfItsFamily) {
  HttpSysUrl url = MustParse("HTTP://127.0.0.1:8000:127.0.0.1/");
  EXPECT_TRUE(UrlCoversEndpoint(url, "127.0.0.1", 8000));
  EXPECT_TRUE(UrlCoversEndpoint(url, "0.0.0.0", 8000));
  EXPECT_FALSE(UrlCoversEndpoint(url, "10.0.0.5", 8000));
  EXPECT_FALSE(UrlCoversEndpoint(url, "::", 8000));
  EXPECT_FALSE(UrlCoversEndpoint(url, "127.0.0.1", 8001));
}

TEST(UrlCoversEndpoint, IpLiteralHostIsIpBound) {
  HttpSysUrl url = MustParse("https://[fe80::1]:443/");
  EXPECT_TRUE(UrlCoversEndpoint(url, "fe80:0:0::1", 443));
  EXPECT_TRUE(UrlCoversEndpoint(url, "[::]", 443));
  EXPECT_FALSE(UrlCoversEndpoint(url, "0.0.0.0", 443));
  EXPECT_FALSE(UrlCoversEndpoint(url, "::1", 443));
}

TEST(UrlCoversEndpoint, UnparsableAddressCoversNothing) {
  HttpSysUrl url = MustParse("http://+:80/");
  EXPECT_FALSE(UrlCoversEndpoint(url, "not-an-address", 80));
  EXPECT_FALSE(UrlCoversEndpoint(url, "", 80));
}

TEST(ParseIpAddress, AcceptsTheFormsNetshAndNetstatPrint) {
  std::optional<IpAddress> v4 = ParseIpAddress("192.168.33.1");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->v6);
  EXPECT_EQ(v4->bytes[0], 192);
  EXPECT_EQ(v4->bytes[3], 1);
  EXPECT_TRUE(ParseIpAddress("0.0.0.0")->IsUnspecified());
  EXPECT_TRUE(ParseIpAddress("::")->IsUnspecified());
  EXPECT_TRUE(ParseIpAddress("[::]")->IsUnspecified());
  EXPECT_EQ(ParseIpAddress("::1"), ParseIpAddress("0:0:0:0:0:0:0:1"));
  EXPECT_EQ(ParseIpAddress("FE80::1%12"), ParseIpAddress("fe80::1"));
  std::optional<IpAddress> mapped = ParseIpAddress("::ffff:10.0.0.5");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->bytes[10], 0xff);
  EXPECT_EQ(mapped->bytes[12], 10);
  EXPECT_EQ(mapped->bytes[15], 5);
}

TEST(ParseIpAddress, RejectsMalformedText) {
  for (std::string_view text : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "1::2::3", ":1",
                                "1:", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "::1.2.3",
                                "fe80::1%", "[1.2.3.4]", "[::1", "g::1", "1.2.3.4:80"}) {
    EXPECT_FALSE(ParseIpAddress(text)) << text;
  }
}

}  // namespace
}  // namespace portwarden::httpsys
