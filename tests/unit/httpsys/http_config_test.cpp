// HTTP Server API records: synthesized buffers decoded at arbitrary base addresses, each
// decoder also fed a bad header, a truncated record, absurd counts and stray pointers; and the
// query loops run against FakePlatform (regrowing buffers, tokens, end of enumeration, errors).

#include "collectors/httpsys/http_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/httpsys/fake_platform.h"

namespace portwarden::httpsys {
namespace {

using testing::FakePlatform;
using ::testing::HasSubstr;
using testing::Record;
using testing::SockaddrV4;
using testing::SockaddrV6;

/// An address no real buffer starts at, to show the decoder does not assume its own.
constexpr uint64_t kBase = 0x00007ff6'12340000;

std::array<uint8_t, 16> V6(std::initializer_list<uint8_t> head, uint8_t last) {
  std::array<uint8_t, 16> a{};
  std::copy(head.begin(), head.end(), a.begin());
  a[15] = last;
  return a;
}

TEST(DecodeIpListenQuery, Ipv4AndIpv6Addresses) {
  Record r = testing::IpListenQuery({SockaddrV4({10, 0, 0, 5}, 0), SockaddrV6(V6({}, 0), 0),
                                     SockaddrV6(V6({0xfe, 0x80}, 1), 80)});
  auto list = DecodeIpListenQuery(r.At(0));
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].address, "10.0.0.5");
  EXPECT_EQ((*list)[1].address, "::");
  EXPECT_EQ((*list)[2].address, "fe80::1");
}

TEST(DecodeIpListenQuery, EmptyListWithOrWithoutPadding) {
  for (size_t size : {4u, 8u, 136u}) {
    std::vector<uint8_t> bytes(size, 0);
    auto list = DecodeIpListenQuery(bytes);
    ASSERT_TRUE(list.ok()) << size;
    EXPECT_TRUE(list->empty());
  }
}

TEST(DecodeIpListenQuery, BadHeaderTruncatedAbsurdCountAndFamily) {
  EXPECT_THAT(DecodeIpListenQuery(std::vector<uint8_t>{1, 0}).error().message,
              HasSubstr("shorter than the count"));
  Record two = testing::IpListenQuery({SockaddrV4({1, 2, 3, 4}, 0), SockaddrV4({5, 6, 7, 8}, 0)});
  two.Truncate(1);
  EXPECT_THAT(DecodeIpListenQuery(two.At(0)).error().message,
              HasSubstr("2 addresses do not fit in 263 bytes"));
  Record absurd = testing::IpListenQuery({SockaddrV4({1, 2, 3, 4}, 0)});
  absurd.U32(0, 0xffffffff);
  EXPECT_THAT(DecodeIpListenQuery(absurd.At(0)).error().message, HasSubstr("do not fit"));
  Record unix_family = testing::IpListenQuery({SockaddrV4({1, 2, 3, 4}, 0)});
  unix_family.U16(kIpListenQueryListOffset, 1);
  EXPECT_THAT(DecodeIpListenQuery(unix_family.At(0)).error().message,
              HasSubstr("address family 1, expected AF_INET (2) or AF_INET6 (23)"));
}

TEST(DecodeUrlAclSet, UrlSddlAndPrincipals) {
  Record r = testing::UrlAclSet(u"http://+:80/Temporary_Listen_Addresses/",
                                u"D:(A;;GX;;;WD)(A;;GA;;;S-1-5-21-1-2-3-1001)");
  auto acl = DecodeUrlAclSet({r.At(kBase), kBase});
  ASSERT_TRUE(acl.ok()) << acl.error().message;
  EXPECT_EQ(acl->url, "http://+:80/Temporary_Listen_Addresses/");
  EXPECT_EQ(acl->sddl, "D:(A;;GX;;;WD)(A;;GA;;;S-1-5-21-1-2-3-1001)");
  ASSERT_EQ(acl->principals.size(), 2u);
  EXPECT_EQ(acl->principals[0].sid, "S-1-1-0");
  EXPECT_TRUE(acl->principals[0].listen);
  EXPECT_FALSE(acl->principals[0].delegate);
  EXPECT_EQ(acl->principals[1].sid, "S-1-5-21-1-2-3-1001");
  EXPECT_TRUE(acl->principals[1].delegate);
}

TEST(DecodeUrlAclSet, NonAsciiUrlAndSurrogatePairs) {
  Record r = testing::UrlAclSet(u"http://b\u00fccher.example:8080/\U0001F600/", u"D:(A;;GX;;;NS)");
  auto acl = DecodeUrlAclSet({r.At(kBase), kBase});
  ASSERT_TRUE(acl.ok()) << acl.error().message;
  EXPECT_EQ(acl->url,
            "http://b\xc3\xbc"
            "cher.example:8080/\xf0\x9f\x98\x80/");
}

TEST(DecodeUrlAclSet, StrayPointersAndCutStrings) {
  const auto message = [](const Record& r, uint64_t base = kBase) {
    auto acl = DecodeUrlAclSet({r.At(base), base});
    return acl.ok() ? std::string("decoded") : acl.error().message;
  };
  EXPECT_THAT(message(Record(8)), HasSubstr("record is 8 bytes, expected at least 16"));
  Record null_url(kUrlAclSetSize);
  null_url.WString(8, u"D:(A;;GX;;;WD)");
  EXPECT_THAT(message(null_url), HasSubstr("null string pointer at offset 0"));
  Record outside = testing::UrlAclSet(u"http://+:80/", u"D:(A;;GX;;;WD)");
  outside.AbsolutePointer(0, kBase - 2);
  EXPECT_THAT(message(outside),
              HasSubstr("pointer at offset 0 points outside the returned buffer"));
  outside.AbsolutePointer(0, kBase + 4096);
  EXPECT_THAT(message(outside), HasSubstr("points outside"));
  Record unterminated(kUrlAclSetSize);
  unterminated.WString(8, u"D:(A;;GX;;;WD)").WString(0, u"http://+:80/", false);
  EXPECT_THAT(message(unterminated), HasSubstr("runs past the buffer"));
  Record bad_sddl = testing::UrlAclSet(u"http://+:80/", u"D:(X;;GX;;;WD)");
  EXPECT_THAT(message(bad_sddl), HasSubstr("http://+:80/: SDDL"));
  // Decoded at the wrong base, every pointer is off: an error, never a wild read.
  Record good = testing::UrlAclSet(u"http://+:80/", u"D:(A;;GX;;;WD)");
  auto shifted = DecodeUrlAclSet({good.At(kBase), kBase + 0x10000});
  EXPECT_FALSE(shifted.ok());
}

TEST(DecodeSslSet, Ipv4BindingWithEveryField) {
  Record r = testing::SslSet(SockaddrV4({0, 0, 0, 0}, 443));
  auto b = DecodeSslSet({r.At(kBase), kBase});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->kind, TlsBindingKind::kIpPort);
  EXPECT_EQ(b->endpoint, "0.0.0.0:443");
  EXPECT_EQ(b->host, "0.0.0.0");
  EXPECT_EQ(b->port, 443);
  EXPECT_EQ(b->cert_hash, testing::kSha1Text);
  EXPECT_EQ(b->app_id, testing::kAppIdText);
  EXPECT_EQ(b->store, "MY");
  EXPECT_EQ(b->options, (std::vector<TlsOption>{{"DefaultCertCheckMode", "4"},
                                                {"DefaultRevocationFreshnessTime", "3600"},
                                                {"DefaultRevocationUrlRetrievalTimeout", "10000"},
                                                {"DefaultSslCtlIdentifier", ""},
                                                {"DefaultSslCtlStoreName", ""},
                                                {"DefaultFlags", "0x00000002"}}));
}

TEST(DecodeSslSet, Ipv6BindingAndNullStore) {
  Record r = testing::SslSet(SockaddrV6(V6({}, 1), 8443), u"");
  auto b = DecodeSslSet({r.At(kBase), kBase});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->endpoint, "[::1]:8443");
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->store, "");
}

TEST(DecodeSslSet, DamagedRecords) {
  const auto message = [](const Record& r) {
    auto b = DecodeSslSet({r.At(kBase), kBase});
    return b.ok() ? std::string("decoded") : b.error().message;
  };
  EXPECT_THAT(message(Record(kSslSetSize - 1)), HasSubstr("expected at least 88"));
  Record huge_hash = testing::SslSet(SockaddrV4({0, 0, 0, 0}, 443));
  huge_hash.U32(kSslSetParamOffset, 100000);
  EXPECT_THAT(message(huge_hash), HasSubstr("certificate hash of 100000 bytes"));
  Record long_hash = testing::SslSet(SockaddrV4({0, 0, 0, 0}, 443));
  long_hash.U32(kSslSetParamOffset, 64);  // plausible length, but past the end of the buffer
  EXPECT_THAT(message(long_hash), HasSubstr("run past the buffer"));
  Record bad_family = testing::SslSet({9, 0, 1, 187, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_THAT(message(bad_family), HasSubstr("address family 9"));
  Record cut_v6(kSslSetSize);  // an AF_INET6 address of which only 16 bytes are in the buffer
  testing::SslParam(cut_v6, kSslSetParamOffset, u"MY");
  std::vector<uint8_t> v6 = SockaddrV6(V6({}, 1), 443);
  cut_v6.Point(0, std::span<const uint8_t>(v6).first(16));
  EXPECT_THAT(message(cut_v6), HasSubstr("run past the buffer"));
}

TEST(DecodeSslSniSet, HostnameBinding) {
  Record r = testing::SslSniSet(u"adfs.contoso.com", 443);
  auto b = DecodeSslSniSet({r.At(kBase), kBase});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->kind, TlsBindingKind::kHostnamePort);
  EXPECT_EQ(b->endpoint, "adfs.contoso.com:443");
  EXPECT_EQ(b->host, "adfs.contoso.com");
  EXPECT_EQ(b->store, "WebHosting");
  EXPECT_EQ(b->cert_hash, testing::kSha1Text);
  Record no_host(kSslSniSetSize);
  no_host.Raw(0, SockaddrV4({0, 0, 0, 0}, 443));
  EXPECT_THAT(DecodeSslSniSet({no_host.At(kBase), kBase}).error().message,
              HasSubstr("null string pointer at offset 128"));
}

TEST(DecodeSslCcsSet, PortOnly) {
  Record r = testing::SslCcsSet(8443);
  auto b = DecodeSslCcsSet({r.At(kBase), kBase});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->kind, TlsBindingKind::kCcs);
  EXPECT_EQ(b->endpoint, "8443");
  EXPECT_EQ(b->port, 8443);
  EXPECT_EQ(b->host, "");
  EXPECT_EQ(b->store, "");
  EXPECT_THAT(DecodeSslCcsSet({Record(100).At(kBase), kBase}).error().message,
              HasSubstr("HTTP_SERVICE_CONFIG_SSL_CCS_SET: record is 100 bytes"));
}

TEST(QueryNextInput, LayoutPerStore) {
  struct Case {
    HttpConfigId id;
    size_t size;
    size_t token_at;
  };
  for (const Case& c :
       {Case{HttpConfigId::kUrlAclInfo, 24, 16}, Case{HttpConfigId::kSslCertInfo, 24, 16},
        Case{HttpConfigId::kSslSniCertInfo, 152, 144},
        Case{HttpConfigId::kSslCcsCertInfo, 144, 136}}) {
    std::vector<uint8_t> input = QueryNextInput(c.id, 0x01020304);
    ASSERT_EQ(input.size(), c.size) << ToString(c.id);
    EXPECT_EQ(input[0], 1) << "QueryDesc = HttpServiceConfigQueryNext";
    EXPECT_EQ(input[c.token_at], 0x04);
    EXPECT_EQ(input[c.token_at + 3], 0x01);
    for (size_t i = 4; i < c.token_at; ++i) EXPECT_EQ(input[i], 0) << "key byte " << i;
  }
}

TEST(QueryIpListen, NeverConfiguredIsEmptyAndBuffersGrow) {
  FakePlatform api;
  auto empty = QueryIpListen(api);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->empty());

  std::vector<std::vector<uint8_t>> many;
  for (uint8_t i = 0; i < 40; ++i) many.push_back(SockaddrV4({10, 0, 0, i}, 0));
  api.ip_listen = testing::IpListenQuery(many);  // 5128 bytes: more than the first buffer
  api.calls.clear();
  auto list = QueryIpListen(api);
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 40u);
  EXPECT_EQ(list->back().address, "10.0.0.39");
  ASSERT_EQ(api.calls.size(), 2u) << "one call too small, one with the size the API asked";
  EXPECT_EQ(api.calls[1].second, 5128u);
}

TEST(QueryIpListen, ErrorsNameTheCallAndCode) {
  FakePlatform api;
  api.ip_listen = Record(kIpListenQueryListOffset);
  api.ip_listen->U32(0, 1000);  // a count its bytes cannot hold
  EXPECT_THAT(QueryIpListen(api).error().message, HasSubstr("1000 addresses do not fit"));
}

TEST(QueryUrlAcls, EnumeratesUntilNoMoreItemsAndSkipsBadRecords) {
  FakePlatform api;
  auto& store = api.stores[HttpConfigId::kUrlAclInfo];
  store.push_back(testing::UrlAclSet(u"http://+:5985/wsman/", u"D:(A;;GX;;;S-1-5-80-569256582)"));
  store.push_back(testing::UrlAclSet(u"http://+:80/bad/", u"no SDDL here"));
  // A long SDDL: the record needs more than the first 4 KiB buffer.
  std::u16string sddl = u"D:";
  for (int i = 0; i < 200; ++i)
    sddl += u"(A;;GX;;;S-1-5-21-1-2-3-" + std::u16string(1, u'1') + u")";
  store.push_back(testing::UrlAclSet(u"https://+:443/big/", sddl));
  auto acls = QueryUrlAcls(api);
  ASSERT_TRUE(acls.ok()) << acls.error().message;
  ASSERT_EQ(acls->reservations.size(), 2u);
  EXPECT_EQ(acls->skipped, 1);
  EXPECT_EQ(acls->reservations[0].url, "http://+:5985/wsman/");
  EXPECT_EQ(acls->reservations[1].principals.size(), 200u);
}

TEST(QueryUrlAcls, ApiErrorsAndRunawayAnswers) {
  FakePlatform denied;
  denied.store_errors[HttpConfigId::kUrlAclInfo] = 5;
  EXPECT_EQ(QueryUrlAcls(denied).error().message,
            "HttpQueryServiceConfiguration(HttpServiceConfigUrlAclInfo) record 0 failed: "
            "0x00000005");

  // An API that keeps asking for more than it says it needs.
  class Greedy : public FakePlatform {
    uint32_t HttpQueryServiceConfiguration(uint32_t, std::span<const uint8_t>,
                                           std::span<uint8_t> output,
                                           uint32_t& return_length) override {
      return_length = static_cast<uint32_t>(output.size() + 1);
      return kErrorInsufficientBuffer;
    }
  } greedy;
  EXPECT_THAT(QueryUrlAcls(greedy).error().message,
              HasSubstr("record 0: the record kept growing (ERROR_INSUFFICIENT_BUFFER 8 times)"));

  class Absurd : public FakePlatform {
    uint32_t HttpQueryServiceConfiguration(uint32_t, std::span<const uint8_t>, std::span<uint8_t>,
                                           uint32_t& return_length) override {
      return_length = 0xfffffff0u;
      return kErrorMoreData;
    }
  } absurd;
  EXPECT_THAT(QueryUrlAcls(absurd).error().message,
              HasSubstr("asks for a buffer of 4294967280 bytes"));

  // An API that never says ERROR_NO_MORE_ITEMS.
  class Endless : public FakePlatform {
    uint32_t HttpQueryServiceConfiguration(uint32_t, std::span<const uint8_t>,
                                           std::span<uint8_t> output,
                                           uint32_t& return_length) override {
      auto bytes = testing::UrlAclSet(u"http://+:1/", u"D:(A;;GX;;;WD)")
                       .At(reinterpret_cast<uintptr_t>(output.data()));
      std::copy(bytes.begin(), bytes.end(), output.begin());
      return_length = static_cast<uint32_t>(bytes.size());
      return kErrorSuccess;
    }
  } endless;
  EXPECT_THAT(QueryUrlAcls(endless).error().message, HasSubstr("the enumeration does not end"));
}

TEST(QueryTlsBindings, AllThreeStores) {
  FakePlatform api;
  api.stores[HttpConfigId::kSslCertInfo] = {testing::SslSet(SockaddrV4({0, 0, 0, 0}, 443)),
                                            testing::SslSet(SockaddrV6(V6({}, 0), 443))};
  api.stores[HttpConfigId::kSslSniCertInfo] = {testing::SslSniSet(u"www.contoso.com", 443)};
  api.stores[HttpConfigId::kSslCcsCertInfo] = {testing::SslCcsSet(8443)};
  auto tls = QueryTlsBindings(api);
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  std::vector<std::string> endpoints;
  for (const auto& b : tls->bindings) endpoints.push_back(b.endpoint);
  EXPECT_EQ(endpoints,
            (std::vector<std::string>{"0.0.0.0:443", "[::]:443", "www.contoso.com:443", "8443"}));
}

TEST(QueryTlsBindings, SniAndCcsMissingBeforeWindows8) {
  FakePlatform api;
  api.stores[HttpConfigId::kSslCertInfo] = {testing::SslSet(SockaddrV4({0, 0, 0, 0}, 443))};
  api.store_errors[HttpConfigId::kSslSniCertInfo] = kErrorInvalidParameter;
  api.store_errors[HttpConfigId::kSslCcsCertInfo] = kErrorInvalidParameter;
  auto tls = QueryTlsBindings(api);
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  EXPECT_EQ(tls->bindings.size(), 1u);

  // The IP:port store has existed since Vista: the same answer there is an error.
  api.store_errors[HttpConfigId::kSslCertInfo] = kErrorInvalidParameter;
  EXPECT_THAT(QueryTlsBindings(api).error().message,
              HasSubstr("HttpServiceConfigSSLCertInfo) record 0 failed: 0x00000057"));
}

}  // namespace
}  // namespace portwarden::httpsys
