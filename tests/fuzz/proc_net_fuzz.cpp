// ParseProcNet: /proc/net/{tcp,tcp6,udp,udp6}. First byte: bit 0 udp, bit 1 IPv6.
#include "collectors/listeners/proc_net.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  const uint8_t selector = fuzz::TakeSelector(data, size);
  const Proto proto = selector & 1 ? Proto::kUdp : Proto::kTcp;
  const Family family = selector & 2 ? Family::kIpv6 : Family::kIpv4;
  const std::string_view text = fuzz::AsText(data, size);
  auto table = ParseProcNet(text, proto, family);
  if (table) {
    // Each socket and each skipped line is a line after the header.
    PORTWARDEN_FUZZ_CHECK(table->skipped + table->sockets.size() <
                          static_cast<size_t>(fuzz::LineCount(text)));
    for (const SocketEntry& s : table->sockets) {
      PORTWARDEN_FUZZ_CHECK(s.proto == proto && s.family == family && fuzz::IsSocketOfItsFamily(s));
    }
  }
  return 0;
}
