// DecodeInetDiag: a netlink sock_diag datagram. First byte: protocol (even tcp, odd udp).
#include "collectors/listeners/inet_diag.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  const Proto proto = fuzz::TakeSelector(data, size) % 2 ? Proto::kUdp : Proto::kTcp;
  auto batch = DecodeInetDiag(std::span<const uint8_t>(data, size), proto);
  if (batch) {
    for (const SocketEntry& s : batch->sockets) {
      PORTWARDEN_FUZZ_CHECK(s.proto == proto && fuzz::IsSocketOfItsFamily(s));
    }
  }
  return 0;
}
