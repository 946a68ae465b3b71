// Live, as issue 5 puts it: the registry readers after `reg add` of ListenOnlyList and
// UrlAclInfo values. reg.exe (Windows' own, or the builtin one `wine reg add` runs) writes
// them from the text an admin types: REG_MULTI_SZ from "a\0b", REG_BINARY from hex. They are
// read back through the real platform, the pure decoders and the whole HTTP.sys collection.
// registry_windows_test.cpp covers the same readers with values written by RegSetValueExW.
// Whatever the outcome, the registry is left as it was: our values deleted, a ListenOnlyList
// that existed put back byte for byte, and the keys the test had to create removed.
#include <windows.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "collectors/httpsys/collector.h"
#include "collectors/httpsys/platform.h"
#include "collectors/httpsys/registry.h"
#include "collectors/httpsys/run_process.h"

namespace portwarden::httpsys {
namespace {

using namespace std::chrono_literals;

const std::string kHttpKey = "SYSTEM\\CurrentControlSet\\Services\\HTTP";
const std::string kParameters(kHttpParametersKey);
const std::string kUrlAclInfo(kUrlAclInfoKey);
const std::string kUrl = "http://+:18081/portwarden-reg-add-test/";

// What HTTP.sys stores for the reservation "D:(A;;GX;;;BU)(A;;GW;;;LS)" (BUILTIN\Users may
// listen, LOCAL SERVICE may delegate): a self-relative SECURITY_DESCRIPTOR (winnt.h
// SECURITY_DESCRIPTOR_RELATIVE, ACL, ACCESS_ALLOWED_ACE, SID; little-endian), in hex for reg.
const std::string kDescriptorHex =
    "01000480"                          // revision 1, control SE_DACL_PRESENT | SE_SELF_RELATIVE
    "000000000000000000000000"          // no owner, group or SACL
    "14000000"                          // the DACL at offset 20
    "0200340002000000"                  // ACL revision 2, 52 bytes, 2 ACEs
    "0000180000000020"                  // allow, 24 bytes, GENERIC_EXECUTE
    "01020000000000052000000021020000"  // S-1-5-32-545
    "0000140000000040"                  // allow, 20 bytes, GENERIC_WRITE
    "010100000000000513000000";         // S-1-5-19

/// Runs %SystemRoot%\System32\reg.exe with `arguments`; its exit code. What reg said goes to
/// the test log when it failed, unless `failure_expected` (a query for a key that may be
/// missing, the delete of a value the test may not have written).
uint32_t Reg(const std::string& arguments, bool failure_expected = false) {
  char system[MAX_PATH];
  UINT n = GetSystemDirectoryA(system, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) {
    ADD_FAILURE() << "GetSystemDirectoryA failed: " << GetLastError();
    return UINT32_MAX;
  }
  auto result = RunProcess(std::string(system, n) + "\\reg.exe", arguments, 120s);
  if (!result.ok()) {
    ADD_FAILURE() << "reg " << arguments << ": " << result.error().message;
    return UINT32_MAX;
  }
  if (result->exit_code != 0 && !failure_expected) {
    std::cerr << "reg " << arguments << " exited " << result->exit_code << ": "
              << OemToUtf8(result->output) << "\n";
  }
  return result->exit_code;
}

bool KeyExists(const std::string& key) {
  return Reg("query \"HKLM\\" + key + "\"", /*failure_expected=*/true) == 0;
}

std::optional<RegistryValue> ReadListenOnlyList() {
  auto value = MakeHttpSysPlatform()->ReadRegistryValue(kHttpParametersKey, kListenOnlyListValue);
  if (!value.ok()) {
    ADD_FAILURE() << value.error().message;
    return std::nullopt;
  }
  return *value;
}

/// Our UrlAclInfo value as the platform reads it; nullopt if it is not there.
std::optional<RegistryValue> ReadOurReservation(HttpSysPlatform& platform) {
  auto values = platform.ReadRegistryValues(kUrlAclInfoKey);
  if (!values.ok()) {
    ADD_FAILURE() << values.error().message;
    return std::nullopt;
  }
  for (RegistryValue& v : *values) {
    if (v.name == kUrl) return std::move(v);
  }
  return std::nullopt;
}

/// The part of the registry the test writes, as it was on construction: ListenOnlyList and
/// which of the HTTP service's keys exist. Restore(), also run on destruction whatever the
/// test's outcome, brings it back.
class RegistryState {
 public:
  RegistryState() {
    for (const std::string& key : {kHttpKey, kParameters, kUrlAclInfo}) {
      if (!KeyExists(key)) missing_keys_.push_back(key);
    }
    listen_only_list_ = ReadListenOnlyList();
  }
  ~RegistryState() { Restore(); }
  RegistryState(const RegistryState&) = delete;
  RegistryState& operator=(const RegistryState&) = delete;

  /// Deletes our reservation, puts ListenOnlyList back (reg.exe could not restore any bytes of
  /// any type, RegSetKeyValueW can) or deletes it, then deletes the keys that were missing,
  /// deepest first. Idempotent.
  void Restore() {
    if (restored_) return;
    restored_ = true;
    // Our values may be missing when the test failed before writing them.
    if (KeyExists(kUrlAclInfo)) {
      Reg("delete \"HKLM\\" + kUrlAclInfo + "\" /v \"" + kUrl + "\" /f", /*failure_expected=*/true);
    }
    if (listen_only_list_) {
      const std::wstring key(kParameters.begin(), kParameters.end());  // ASCII
      EXPECT_EQ(RegSetKeyValueW(HKEY_LOCAL_MACHINE, key.c_str(), L"ListenOnlyList",
                                listen_only_list_->type, listen_only_list_->data.data(),
                                static_cast<DWORD>(listen_only_list_->data.size())),
                ERROR_SUCCESS);
    } else if (KeyExists(kParameters)) {
      Reg("delete \"HKLM\\" + kParameters + "\" /v ListenOnlyList /f", /*failure_expected=*/true);
    }
    // Gone already where a nested test restored its own state first.
    for (auto key = missing_keys_.rbegin(); key != missing_keys_.rend(); ++key) {
      if (KeyExists(*key)) {
        EXPECT_EQ(Reg("delete \"HKLM\\" + *key + "\" /f"), 0u) << *key;
      }
    }
  }

  /// Asserts the registry is as it was on construction.
  void ExpectUnchanged() const {
    for (const std::string& key : {kHttpKey, kParameters, kUrlAclInfo}) {
      const bool was_missing =
          std::find(missing_keys_.begin(), missing_keys_.end(), key) != missing_keys_.end();
      EXPECT_EQ(KeyExists(key), !was_missing) << key;
    }
    std::optional<RegistryValue> now = ReadListenOnlyList();
    ASSERT_EQ(now.has_value(), listen_only_list_.has_value());
    if (now) {
      EXPECT_EQ(now->type, listen_only_list_->type);
      EXPECT_EQ(now->data, listen_only_list_->data);
    }
    if (KeyExists(kUrlAclInfo)) {
      auto platform = MakeHttpSysPlatform();
      EXPECT_FALSE(ReadOurReservation(*platform).has_value());
    }
  }

 private:
  std::vector<std::string> missing_keys_;
  std::optional<RegistryValue> listen_only_list_;
  bool restored_ = false;
};

/// `reg add` of both values, the reads, then the restore and its check.
void AddReadAndRestore() {
  RegistryState before;
  ASSERT_EQ(
      Reg("add \"HKLM\\" + kParameters +
          "\" /v ListenOnlyList /t REG_MULTI_SZ /d \"10.0.0.7\\0[::1]:8080\\0not-an-address\" /f"),
      0u);
  ASSERT_EQ(Reg("add \"HKLM\\" + kUrlAclInfo + "\" /v \"" + kUrl + "\" /t REG_BINARY /d " +
                kDescriptorHex + " /f"),
            0u);
  auto platform = MakeHttpSysPlatform();

  // The values as reg.exe made them of its command line.
  std::optional<RegistryValue> list = ReadListenOnlyList();
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->type, kRegMultiSz);
  EXPECT_EQ(DecodeMultiSz(list->data),
            (std::vector<std::string>{"10.0.0.7", "[::1]:8080", "not-an-address"}));
  std::optional<RegistryValue> ours = ReadOurReservation(*platform);
  ASSERT_TRUE(ours.has_value());
  EXPECT_EQ(ours->type, kRegBinary);
  EXPECT_EQ(ours->data.size(), kDescriptorHex.size() / 2);
  auto reservation = DecodeUrlAclValue(ours->name, ours->type, ours->data);
  ASSERT_TRUE(reservation.ok()) << reservation.error().message;
  EXPECT_EQ(reservation->url, kUrl);
  EXPECT_EQ(reservation->sddl, "D:(A;;GX;;;S-1-5-32-545)(A;;GW;;;S-1-5-19)");
  const std::vector<UrlAclPrincipal> principals = {
      {"", "S-1-5-32-545", "S-1-5-32-545", /*listen=*/true, /*delegate=*/false},
      {"", "S-1-5-19", "S-1-5-19", /*listen=*/false, /*delegate=*/true}};
  EXPECT_EQ(reservation->principals, principals);

  // Through the whole collection.
  HttpSysCollection c = CollectHttpSys(*platform, {});
  auto registry = std::find_if(c.statuses.begin(), c.statuses.end(),
                               [](const auto& s) { return s.name == kRegistryCollector; });
  ASSERT_NE(registry, c.statuses.end());
  EXPECT_TRUE(registry->success) << registry->error;
  ASSERT_TRUE(c.state.iplisten_registry.has_value());
  std::vector<std::string> addresses;
  for (const auto& e : *c.state.iplisten_registry) addresses.push_back(e.address);
  EXPECT_EQ(addresses, (std::vector<std::string>{"10.0.0.7", "::1"}));
  EXPECT_EQ(c.state.skipped.at(std::string(kRegistryCollector)), 1) << "not-an-address";
  if (c.state.urlacl_source == "registry") {
    // Wine: the HTTP API answers no query, the reservations are the registry's, with the
    // accounts resolved.
    ASSERT_TRUE(c.state.urlacls.has_value());
    const UrlReservation* collected = nullptr;
    for (const auto& r : *c.state.urlacls) {
      if (r.url == kUrl) collected = &r;
    }
    ASSERT_NE(collected, nullptr);
    ASSERT_EQ(collected->principals.size(), principals.size());
    for (size_t i = 0; i < principals.size(); ++i) {
      UrlAclPrincipal expected = principals[i];
      expected.account = platform->AccountName(expected.sid);
      EXPECT_FALSE(expected.account.empty()) << expected.sid << " resolves";
      EXPECT_EQ(collected->principals[i], expected);
    }
  } else {
    // Windows: the HTTP API lists the reservations, and this one is in the registry only.
    bool mismatch = false;
    for (const auto& m : c.state.urlacl_mismatches) {
      mismatch = mismatch || (m.url == kUrl && m.difference == "registry_only");
    }
    EXPECT_TRUE(mismatch);
  }

  before.Restore();
  before.ExpectUnchanged();
}

TEST(HttpSysRegAdd, ValuesAddedWithRegAreReadAndRemoved) { AddReadAndRestore(); }

TEST(HttpSysRegAdd, AnEarlierListenOnlyListIsPutBack) {
  RegistryState outer;
  ASSERT_EQ(Reg("add \"HKLM\\" + kParameters +
                "\" /v ListenOnlyList /t REG_MULTI_SZ /d \"192.0.2.1\\0192.0.2.2\" /f"),
            0u);
  AddReadAndRestore();
  std::optional<RegistryValue> list = ReadListenOnlyList();
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->type, kRegMultiSz);
  EXPECT_EQ(DecodeMultiSz(list->data), (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  outer.Restore();
  outer.ExpectUnchanged();
}

}  // namespace
}  // namespace portwarden::httpsys
