// The collector over FakePlatform: every sub-collector's success and failure paths, that a
// failing part leaves the others intact, and what it asks the OS (netsh commands, timeout).

#include "collectors/httpsys/collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collectors/httpsys/registry.h"
#include "tests/unit/httpsys/fake_platform.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::httpsys {
namespace {

using ::testing::ElementsAre;
using testing::FakePlatform;
using ::testing::HasSubstr;
using testing::MultiSz;
using testing::ReadWindowsFixture;
using testing::SockaddrV4;

constexpr std::string_view kServiceState = "http show servicestate view=requestq";

/// An excludedportrange listing without rows, in netsh's layout.
std::string NoRanges(std::string_view proto) {
  return "\r\nProtocol " + std::string(proto) +
         " Port Exclusion Ranges\r\n\r\nStart Port    End Port\r\n----------    --------\r\n"
         "\r\n* - Administered port exclusions.\r\n\r\n";
}

/// A self-relative security descriptor granting GENERIC_EXECUTE to Everyone (S-1-1-0).
std::vector<uint8_t> EveryoneListen() {
  return {1, 0, 0x04, 0x80, 0, 0, 0, 0,    0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,  // header
          2, 0, 28,   0,    1, 0, 0, 0,                                          // ACL
          0, 0, 20,   0,    0, 0, 0, 0x20,                                       // ACE
          1, 1, 0,    0,    0, 0, 0, 1,    0, 0, 0, 0};                          // S-1-1-0
}

/// A host with IIS, WinRM and a restricted listen list, everything readable.
FakePlatform Host() {
  FakePlatform p;
  p.ip_listen = testing::IpListenQuery({SockaddrV4({172, 16, 1, 1}, 0)});
  p.stores[HttpConfigId::kUrlAclInfo] = {
      testing::UrlAclSet(u"http://+:80/Temporary_Listen_Addresses/", u"D:(A;;GX;;;WD)"),
      testing::UrlAclSet(u"http://+:5985/wsman/", u"D:(A;;GX;;;S-1-5-80-569256582)")};
  p.stores[HttpConfigId::kSslCertInfo] = {testing::SslSet(SockaddrV4({0, 0, 0, 0}, 443))};
  p.stores[HttpConfigId::kSslSniCertInfo] = {testing::SslSniSet(u"www.contoso.com", 443)};
  p.registry[std::string(kHttpParametersKey) + "\\ListenOnlyList"] = {"ListenOnlyList", kRegMultiSz,
                                                                      MultiSz({"172.16.1.1"})};
  p.registry_keys[std::string(kUrlAclInfoKey)] = {
      {"http://+:80/Temporary_Listen_Addresses/", kRegBinary, EveryoneListen()},
      {"http://+:5985/wsman/", kRegSz, MultiSz({"D:(A;;GX;;;S-1-5-80-569256582)"})}};
  p.netsh[std::string(kServiceState)] = {
      0, ReadWindowsFixture("netsh-servicestate-requestq-synth-2-newformat-services.txt")};
  p.netsh["int ipv4 show excludedportrange protocol=tcp"] = {
      0, ReadWindowsFixture("netsh-excludedportrange-synth-tcp-crlf.txt")};
  p.netsh["int ipv4 show excludedportrange protocol=udp"] = {0, NoRanges("udp")};
  p.netsh["int ipv6 show excludedportrange protocol=tcp"] = {0, NoRanges("tcp")};
  p.netsh["int ipv6 show excludedportrange protocol=udp"] = {0, NoRanges("udp")};
  p.processes = {{3408, {"svchost.exe", {"W3SVC", "WAS"}}},
                 {1168, {"svchost.exe", {"WinRM"}}},
                 {4242, {"notepad.exe", {}}}};
  p.accounts = {{"S-1-1-0", "Everyone"}, {"S-1-5-80-569256582", "NT SERVICE\\WinRM"}};
  p.not_after = {{"MY|" + std::string(testing::kSha1Text), 1767225600}};
  return p;
}

const SubCollectorStatus* Status(const HttpSysCollection& c, std::string_view name) {
  for (const auto& s : c.statuses) {
    if (s.name == name) return &s;
  }
  ADD_FAILURE() << "no status for " << name;
  static const SubCollectorStatus kMissing;
  return &kMissing;
}

TEST(CollectHttpSys, EverythingReadable) {
  FakePlatform host = Host();
  HttpSysOptions options;
  options.netsh_timeout = std::chrono::milliseconds(2500);
  HttpSysCollection c = CollectHttpSys(host, options);
  const HttpSysState& s = c.state;

  std::vector<std::string> names;
  for (const auto& st : c.statuses) {
    names.push_back(st.name);
    EXPECT_TRUE(st.success) << st.name << ": " << st.error;
    EXPECT_GE(st.duration_seconds, 0);
  }
  EXPECT_THAT(names,
              ElementsAre("httpsys_iplisten", "httpsys_urlacl", "httpsys_sslcert",
                          "httpsys_registry", "httpsys_requestq", "httpsys_excludedportrange"));
  EXPECT_TRUE(s.collected);
  EXPECT_EQ(host.terminated, 1) << "HttpTerminate after a successful HttpInitialize";

  ASSERT_TRUE(s.iplisten_api && s.iplisten_registry);
  EXPECT_EQ(s.iplisten_api->at(0).address, "172.16.1.1");
  EXPECT_EQ(s.iplisten_registry->at(0).address, "172.16.1.1");

  ASSERT_TRUE(s.urlacls);
  EXPECT_EQ(s.urlacl_source, "api");
  ASSERT_EQ(s.urlacls->size(), 2u);
  EXPECT_EQ(s.urlacls->at(0).principals.at(0).account, "Everyone");
  EXPECT_EQ(s.urlacls->at(1).principals.at(0).account, "NT SERVICE\\WinRM");
  EXPECT_TRUE(s.urlacl_mismatches.empty()) << "the registry holds the same reservations";

  ASSERT_TRUE(s.tls_bindings);
  ASSERT_EQ(s.tls_bindings->size(), 2u);
  EXPECT_EQ(s.tls_bindings->at(0).not_after, 1767225600);
  EXPECT_EQ(s.tls_bindings->at(1).not_after, std::nullopt) << "not in WebHosting";

  ASSERT_TRUE(s.queues);
  EXPECT_EQ(s.queues->size(), 3u);
  EXPECT_EQ(s.queue_processes.size(), 2u) << "only the queues' PIDs that are running";
  EXPECT_EQ(s.queue_processes.at(3408).services, (std::vector<std::string>{"W3SVC", "WAS"}));

  ASSERT_EQ(s.excluded_port_ranges.size(), 4u);
  EXPECT_EQ(s.excluded_port_ranges[0].family, Family::kIpv4);
  EXPECT_EQ(s.excluded_port_ranges[0].proto, Proto::kTcp);
  EXPECT_EQ(s.excluded_port_ranges[0].ranges.size(), 4u);
  EXPECT_TRUE(s.skipped.empty());

  EXPECT_THAT(host.netsh_calls, ElementsAre("http show servicestate view=requestq",
                                            "int ipv4 show excludedportrange protocol=tcp",
                                            "int ipv4 show excludedportrange protocol=udp",
                                            "int ipv6 show excludedportrange protocol=tcp",
                                            "int ipv6 show excludedportrange protocol=udp"));
  EXPECT_EQ(host.netsh_timeout, std::chrono::milliseconds(2500));
}

TEST(CollectHttpSys, HttpApiUnavailableFallsBackToTheRegistry) {
  FakePlatform host = Host();
  host.init_code = 5;  // ERROR_ACCESS_DENIED
  HttpSysCollection c = CollectHttpSys(host, {});
  for (auto name : {kIpListenCollector, kUrlAclCollector, kSslCertCollector}) {
    EXPECT_FALSE(Status(c, name)->success);
    EXPECT_EQ(Status(c, name)->error, "HttpInitialize(HTTP_INITIALIZE_CONFIG) failed: 0x00000005");
  }
  EXPECT_EQ(host.terminated, 0);
  EXPECT_TRUE(Status(c, kRegistryCollector)->success);
  EXPECT_TRUE(Status(c, kRequestQueueCollector)->success);
  EXPECT_FALSE(c.state.iplisten_api);
  EXPECT_FALSE(c.state.tls_bindings);
  ASSERT_TRUE(c.state.urlacls);
  EXPECT_EQ(c.state.urlacl_source, "registry");
  EXPECT_EQ(c.state.urlacls->at(0).principals.at(0).account, "Everyone");
  EXPECT_TRUE(c.state.urlacl_mismatches.empty()) << "nothing to compare with";
}

TEST(CollectHttpSys, QueryErrorsStayInTheirSubCollector) {
  FakePlatform host = Host();
  host.store_errors[HttpConfigId::kUrlAclInfo] = 5;
  HttpSysCollection c = CollectHttpSys(host, {});
  EXPECT_EQ(Status(c, kUrlAclCollector)->error,
            "HttpQueryServiceConfiguration(HttpServiceConfigUrlAclInfo) record 0 failed: "
            "0x00000005");
  EXPECT_TRUE(Status(c, kIpListenCollector)->success);
  EXPECT_TRUE(Status(c, kSslCertCollector)->success);
  EXPECT_EQ(c.state.urlacl_source, "registry");
  EXPECT_EQ(host.terminated, 1);
}

TEST(CollectHttpSys, NetshTimeoutAndMissingNetsh) {
  FakePlatform host = Host();
  host.netsh.clear();
  HttpSysOptions options;
  options.netsh_timeout = std::chrono::milliseconds(2000);
  HttpSysCollection c = CollectHttpSys(host, options);
  EXPECT_EQ(Status(c, kRequestQueueCollector)->error,
            "netsh http show servicestate view=requestq: C:\\Windows\\System32\\netsh.exe "
            "killed after 2000 ms (timeout), 0 bytes read");
  const std::string& ranges = Status(c, kExcludedPortRangeCollector)->error;
  for (auto command : {"int ipv4 show excludedportrange protocol=tcp",
                       "int ipv6 show excludedportrange protocol=udp"}) {
    EXPECT_THAT(ranges, HasSubstr(command));
  }
  EXPECT_FALSE(c.state.queues);
  EXPECT_TRUE(c.state.excluded_port_ranges.empty());
  for (auto name : {kIpListenCollector, kUrlAclCollector, kSslCertCollector, kRegistryCollector}) {
    EXPECT_TRUE(Status(c, name)->success) << name;
  }
}

TEST(CollectHttpSys, NetshWithoutTheHttpContext) {
  // What a netsh lacking `http show` (Wine's, a stripped image) prints, with exit code 1.
  FakePlatform host = Host();
  host.netsh[std::string(kServiceState)] = {
      1, "\r\nThe following command was not found: http show servicestate view=requestq.\r\n"};
  HttpSysCollection c = CollectHttpSys(host, {});
  const std::string& error = Status(c, kRequestQueueCollector)->error;
  EXPECT_THAT(error, HasSubstr("netsh http show servicestate view=requestq exited with code 1: "));
  EXPECT_THAT(error, HasSubstr("The following command was not found"));
}

TEST(CollectHttpSys, SomeExcludedRangeListsReadable) {
  FakePlatform host = Host();
  host.netsh.erase("int ipv6 show excludedportrange protocol=tcp");
  host.netsh["int ipv6 show excludedportrange protocol=udp"] = {1, "garbage"};
  HttpSysCollection c = CollectHttpSys(host, {});
  EXPECT_FALSE(Status(c, kExcludedPortRangeCollector)->success);
  EXPECT_EQ(c.state.excluded_port_ranges.size(), 2u) << "the ipv4 lists are kept";
}

TEST(CollectHttpSys, RegistryUnreadableAndRegistryDiffering) {
  FakePlatform unreadable = Host();
  unreadable.registry_error = Error{
      "RegOpenKeyExW(HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters) "
      "failed: 0x00000005"};
  HttpSysCollection c = CollectHttpSys(unreadable, {});
  EXPECT_EQ(Status(c, kRegistryCollector)->error, unreadable.registry_error->message);
  EXPECT_FALSE(c.state.iplisten_registry);
  EXPECT_EQ(c.state.urlacl_source, "api");

  FakePlatform differing = Host();
  differing.registry.clear();  // ListenOnlyList deleted: an empty list at the next start
  differing.registry_keys[std::string(kUrlAclInfoKey)].pop_back();
  differing.registry_keys[std::string(kUrlAclInfoKey)].push_back(
      {"http://+:8080/new/", kRegSz, MultiSz({"D:(A;;GX;;;WD)"})});
  differing.registry_keys[std::string(kUrlAclInfoKey)].push_back(
      {"http://+:1/broken/", kRegBinary, {1, 2, 3}});
  c = CollectHttpSys(differing, {});
  EXPECT_TRUE(Status(c, kRegistryCollector)->success);
  ASSERT_TRUE(c.state.iplisten_registry);
  EXPECT_TRUE(c.state.iplisten_registry->empty());
  EXPECT_EQ(c.state.urlacl_mismatches,
            (std::vector<UrlAclMismatch>{{"http://+:5985/wsman/", "api_only"},
                                         {"http://+:8080/new/", "registry_only"}}));
  EXPECT_EQ(c.state.skipped.at("httpsys_registry"), 1);
}

}  // namespace
}  // namespace portwarden::httpsys
