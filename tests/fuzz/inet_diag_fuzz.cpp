// DecodeInetDiag: a netlink sock_diag datagram. First byte: protocol (even tcp, odd udp).
// Every socket decoded is one inet_diag_msg of the datagram, read here at the kernel's
// offsets (linux/inet_diag.h), in datagram order: family, port, address, uid, inode and
// cookie as there, and a port (portless sockets are left out).
#include <algorithm>

#include "collectors/listeners/inet_diag.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using portwarden::SocketEntry;
using portwarden::fuzz::LoadLe;

// inet_diag_msg: family 0, id.sport 4 (network order), id.src 8, id.cookie 44, uid 64,
// inode 68; 72 bytes. It follows a 16-byte nlmsghdr at a 4-byte aligned offset.
constexpr size_t kHeader = 16;
constexpr size_t kMsgSize = 72;

bool IsMessageOf(const SocketEntry& s, std::span<const uint8_t> m) {
  const bool v6 = s.family == portwarden::Family::kIpv6;
  portwarden::IpAddress ip;
  ip.v6 = v6;
  std::copy_n(m.begin() + 8, v6 ? 16 : 4, ip.bytes.begin());
  return m[0] == (v6 ? 10 : 2) && s.port == (m[4] << 8 | m[5]) &&
         portwarden::fuzz::IsTextOf(s.address, ip) && s.uid == LoadLe(m, 64, 4) &&
         s.inode == LoadLe(m, 68, 4) && s.cookie == LoadLe(m, 44, 8);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  const Proto proto = fuzz::TakeSelector(data, size) % 2 ? Proto::kUdp : Proto::kTcp;
  const std::span<const uint8_t> datagram(data, size);
  auto batch = DecodeInetDiag(datagram, proto);
  if (!batch) return 0;
  size_t at = 0;
  for (const SocketEntry& s : batch->sockets) {
    PORTWARDEN_FUZZ_CHECK(s.proto == proto && s.port != 0 && fuzz::IsSocketOfItsFamily(s));
    while (at + kHeader + kMsgSize <= size &&
           !IsMessageOf(s, datagram.subspan(at + kHeader, kMsgSize))) {
      at += 4;
    }
    PORTWARDEN_FUZZ_CHECK(at + kHeader + kMsgSize <= size);
    at += 4;
  }
  return 0;
}
