// Live: the registry readers against the real registry (Windows, or Wine's), with values this
// test writes under HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters and removes again.
#include <windows.h>
#include <sddl.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collectors/httpsys/collector.h"
#include "collectors/httpsys/platform.h"
#include "collectors/httpsys/registry.h"

namespace portwarden::httpsys {
namespace {

const wchar_t kParameters[] = L"SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters";
const wchar_t kUrlAclInfo[] = L"SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters\\UrlAclInfo";
constexpr REGSAM kAccess = KEY_QUERY_VALUE | KEY_SET_VALUE | KEY_WOW64_64KEY;

bool KeyExists(const wchar_t* key) {
  HKEY h = nullptr;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, key, 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY, &h) !=
      ERROR_SUCCESS) {
    return false;
  }
  RegCloseKey(h);
  return true;
}

/// Sets one value under HKLM\`key` for the test's lifetime, creating the key (and its
/// missing parents) if needed; restores the previous value, or deletes the value and the keys
/// it created, on destruction, whatever the test's outcome.
class ScopedValue {
 public:
  ScopedValue(const wchar_t* key, std::wstring name, DWORD type, std::vector<uint8_t> data)
      : name_(std::move(name)) {
    // Remember which of the key and its parents exist, deepest last.
    std::wstring path = key;
    for (size_t at = path.find(L'\\');; at = path.find(L'\\', at + 1)) {
      std::wstring prefix = path.substr(0, at);
      if (!KeyExists(prefix.c_str())) created_.push_back(prefix);
      if (at == std::wstring::npos) break;
    }
    LSTATUS rc =
        RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, nullptr, 0, kAccess, nullptr, &key_, nullptr);
    EXPECT_EQ(rc, ERROR_SUCCESS) << "RegCreateKeyExW";
    if (rc != ERROR_SUCCESS) return;
    DWORD old_type = 0, size = 0;
    if (RegQueryValueExW(key_, name_.c_str(), nullptr, &old_type, nullptr, &size) ==
        ERROR_SUCCESS) {
      previous_.resize(size);
      RegQueryValueExW(key_, name_.c_str(), nullptr, &old_type, previous_.data(), &size);
      previous_type_ = old_type;
      had_previous_ = true;
    }
    EXPECT_EQ(
        RegSetValueExW(key_, name_.c_str(), 0, type, data.data(), static_cast<DWORD>(data.size())),
        ERROR_SUCCESS);
  }

  ~ScopedValue() {
    if (key_ == nullptr) return;
    if (had_previous_) {
      RegSetValueExW(key_, name_.c_str(), 0, previous_type_, previous_.data(),
                     static_cast<DWORD>(previous_.size()));
    } else {
      RegDeleteValueW(key_, name_.c_str());
    }
    RegCloseKey(key_);
    for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
      RegDeleteKeyExW(HKEY_LOCAL_MACHINE, it->c_str(), KEY_WOW64_64KEY, 0);
    }
  }

  ScopedValue(const ScopedValue&) = delete;
  ScopedValue& operator=(const ScopedValue&) = delete;

 private:
  std::wstring name_;
  HKEY key_ = nullptr;
  std::vector<std::wstring> created_;
  bool had_previous_ = false;
  DWORD previous_type_ = 0;
  std::vector<uint8_t> previous_;
};

std::vector<uint8_t> MultiSz(const std::vector<std::wstring>& strings) {
  std::vector<uint8_t> out;
  for (const auto& s : strings) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(s.c_str());
    out.insert(out.end(), bytes, bytes + (s.size() + 1) * sizeof(wchar_t));
  }
  out.insert(out.end(), {0, 0});
  return out;
}

/// The binary self-relative security descriptor Windows makes of `sddl`.
std::vector<uint8_t> Descriptor(const wchar_t* sddl) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  ULONG size = 0;
  EXPECT_TRUE(
      ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, &size));
  std::vector<uint8_t> out(static_cast<uint8_t*>(sd), static_cast<uint8_t*>(sd) + size);
  LocalFree(sd);
  return out;
}

TEST(HttpSysRegistry, ListenOnlyListWrittenWithRegSetValueIsRead) {
  ScopedValue value(kParameters, L"ListenOnlyList", REG_MULTI_SZ,
                    MultiSz({L"10.0.0.5", L"[::1]:80", L"bogus"}));
  auto platform = MakeHttpSysPlatform();
  auto raw = platform->ReadRegistryValue(kHttpParametersKey, kListenOnlyListValue);
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  ASSERT_TRUE(raw->has_value());
  EXPECT_EQ((*raw)->type, kRegMultiSz);

  HttpSysCollection c = CollectHttpSys(*platform, {});
  const SubCollectorStatus* registry = nullptr;
  for (const auto& s : c.statuses) {
    if (s.name == kRegistryCollector) registry = &s;
  }
  ASSERT_NE(registry, nullptr);
  EXPECT_TRUE(registry->success) << registry->error;
  ASSERT_TRUE(c.state.iplisten_registry);
  std::vector<std::string> addresses;
  for (const auto& e : *c.state.iplisten_registry) addresses.push_back(e.address);
  EXPECT_EQ(addresses, (std::vector<std::string>{"10.0.0.5", "::1"}));
  EXPECT_EQ(c.state.skipped.at(std::string(kRegistryCollector)), 1);
}

TEST(HttpSysRegistry, UrlAclInfoBinaryDescriptorIsDecoded) {
  const std::string url = "http://+:18080/portwarden-registry-test/";
  ScopedValue value(kUrlAclInfo, L"http://+:18080/portwarden-registry-test/", REG_BINARY,
                    Descriptor(L"D:(A;;GX;;;WD)(A;;GA;;;NS)"));
  auto platform = MakeHttpSysPlatform();
  auto values = platform->ReadRegistryValues(kUrlAclInfoKey);
  ASSERT_TRUE(values.ok()) << values.error().message;
  const RegistryValue* ours = nullptr;
  for (const auto& v : *values) {
    if (v.name == url) ours = &v;
  }
  ASSERT_NE(ours, nullptr);
  auto reservation = DecodeUrlAclValue(ours->name, ours->type, ours->data);
  ASSERT_TRUE(reservation.ok()) << reservation.error().message;
  EXPECT_EQ(reservation->sddl, "D:(A;;GX;;;S-1-1-0)(A;;GA;;;S-1-5-20)");
  EXPECT_FALSE(platform->AccountName("S-1-1-0").empty()) << "Everyone resolves";

  // Through the collector: the reservation is the registry's alone. Where the HTTP API
  // answers (Windows) that is a mismatch; where it does not (Wine) the registry is
  // the source of the reservations.
  HttpSysCollection c = CollectHttpSys(*platform, {});
  bool seen = false;
  if (c.state.urlacl_source == "registry" && c.state.urlacls) {
    for (const auto& r : *c.state.urlacls) seen = seen || r.url == url;
  }
  for (const auto& m : c.state.urlacl_mismatches) {
    seen = seen || (m.url == url && m.difference == "registry_only");
  }
  EXPECT_TRUE(seen);
}

TEST(HttpSysRegistry, MissingValuesAndKeys) {
  auto platform = MakeHttpSysPlatform();
  auto value = platform->ReadRegistryValue(kHttpParametersKey, "PortwardenNoSuchValue");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_FALSE(value->has_value());
  auto values = platform->ReadRegistryValues("SOFTWARE\\PortwardenNoSuchKey");
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_TRUE(values->empty());
}

}  // namespace
}  // namespace portwarden::httpsys
