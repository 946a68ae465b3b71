// nf_tables: the rule dump and generation decoders get the same bytes. Every forward fixes a
// proto, a port and a target address of its family (the host side's address, if any, of
// the same family, without brackets), and its target port is set; the generation decoder
// either finds an ID or says why not.
#include <optional>

#include "collectors/listeners/nat.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool IsAddressOf(const std::string& address, portwarden::Family family) {
  const std::optional<portwarden::IpAddress> ip = portwarden::ParseIpAddress(address);
  return ip && ip->v6 == (family == portwarden::Family::kIpv6) &&
         address.find('[') == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  const std::span<const uint8_t> datagram(data, size);
  if (auto batch = DecodeNftRuleDump(datagram)) {
    PORTWARDEN_FUZZ_CHECK(batch->forwards.size() <= batch->rules);
    PORTWARDEN_FUZZ_CHECK(batch->rules * 20 <= size);  // a header and an nfgenmsg each
    for (const NatForward& f : batch->forwards) {
      PORTWARDEN_FUZZ_CHECK(f.port != 0 && f.to_port != 0);
      PORTWARDEN_FUZZ_CHECK(IsAddressOf(f.to_address, f.family));
      PORTWARDEN_FUZZ_CHECK(f.address.empty() || IsAddressOf(f.address, f.family));
    }
  }
  if (auto gen = DecodeNftGen(datagram)) PORTWARDEN_FUZZ_CHECK(size >= 28);
  return 0;
}
