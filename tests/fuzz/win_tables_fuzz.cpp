// DecodeWinTcpTable / DecodeWinUdpTable: GetExtended*Table buffers. First byte: bit 0 udp,
// bit 1 IPv6, bit 2 the OWNER_MODULE row layout.
#include "collectors/listeners/win_tables.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  const uint8_t selector = fuzz::TakeSelector(data, size);
  const Family family = selector & 2 ? Family::kIpv6 : Family::kIpv4;
  const WinTableClass table_class =
      selector & 4 ? WinTableClass::kOwnerModule : WinTableClass::kOwnerPid;
  const std::span<const uint8_t> buffer(data, size);
  auto sockets = selector & 1 ? DecodeWinUdpTable(buffer, family, table_class)
                              : DecodeWinTcpTable(buffer, family, table_class);
  if (sockets) {
    // Every row decoded came out of the buffer: no more rows than fit in it.
    PORTWARDEN_FUZZ_CHECK(sockets->size() * kWinUdpRowOwnerPidSize <= size);
    for (const SocketEntry& s : *sockets) {
      PORTWARDEN_FUZZ_CHECK(s.family == family && fuzz::IsSocketOfItsFamily(s));
      PORTWARDEN_FUZZ_CHECK(s.proto == (selector & 1 ? Proto::kUdp : Proto::kTcp));
    }
  }
  return 0;
}
