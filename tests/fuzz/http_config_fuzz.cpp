// The HTTP Server API and registry decoders: HttpQueryServiceConfiguration result buffers
// (IP listen list, URL ACL, SSL, SNI and CCS records, whose pointers are absolute addresses:
// the buffer is taken to start at kBase) and the ListenOnlyList / REG_MULTI_SZ values.
// First byte: the decoder (modulo 7) and, for ListenOnlyList, the registry type (bit 3).
#include "collectors/httpsys/http_config.h"
#include "collectors/httpsys/registry.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden::httpsys;
  constexpr uint64_t kBase = 0x10000;
  const uint8_t selector = portwarden::fuzz::TakeSelector(data, size);
  const std::span<const uint8_t> bytes(data, size);
  const ConfigRecord record{bytes, kBase};
  switch (selector % 7) {
    case 0:
      if (auto entries = DecodeIpListenQuery(bytes)) {
        PORTWARDEN_FUZZ_CHECK(entries->size() * kSockaddrStorageSize <= size);
      }
      break;
    case 1:
      if (auto acl = DecodeUrlAclSet(record)) {
        PORTWARDEN_FUZZ_CHECK(acl->principals.size() <= acl->sddl.size());
      }
      break;
    case 2:
      if (auto b = DecodeSslSet(record)) PORTWARDEN_FUZZ_CHECK(b->cert_hash.size() <= 128);
      break;
    case 3:
      if (auto b = DecodeSslSniSet(record)) PORTWARDEN_FUZZ_CHECK(b->cert_hash.size() <= 128);
      break;
    case 4:
      if (auto b = DecodeSslCcsSet(record)) PORTWARDEN_FUZZ_CHECK(b->cert_hash.size() <= 128);
      break;
    case 5:
      if (auto list = DecodeListenOnlyList(selector & 8 ? kRegSz : kRegMultiSz, bytes)) {
        for (const IpListenEntry& e : list->entries) {
          PORTWARDEN_FUZZ_CHECK(portwarden::ParseIpAddress(e.address).has_value());
        }
      }
      break;
    case 6:
      // Two UTF-16 bytes become at most three UTF-8 bytes (U+0800..U+FFFF; a surrogate
      // pair's four bytes become four).
      for (const std::string& s : DecodeMultiSz(bytes)) {
        PORTWARDEN_FUZZ_CHECK(s.size() * 2 <= size * 3);
      }
      break;
  }
  return 0;
}
