// DecodeWinTcpTable / DecodeWinUdpTable: GetExtended*Table buffers. First byte: bit 0 udp,
// bit 1 IPv6, bit 2 the OWNER_MODULE row layout. Checked against the rows read here: the
// count, then each row at its documented place (tcpmib.h, udpmib.h; the OWNER_MODULE rows
// extend the OWNER_PID ones), TCP rows in LISTEN state only, with its address, port
// (network order) and owning PID.
#include <algorithm>
#include <array>
#include <vector>

#include "collectors/listeners/win_tables.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace portwarden;

struct Row {
  IpAddress ip;
  uint16_t port = 0;
  uint32_t pid = 0;
};

// Called only for buffers the decoder accepted, which hold every row the count names.
std::vector<Row> Reference(std::span<const uint8_t> b, bool udp, bool v6, bool module) {
  // Offsets of the local address, local port, PID and (TCP) state in a row.
  constexpr size_t kNoState = SIZE_MAX;
  const std::array<size_t, 4> at = udp ? (v6 ? std::array<size_t, 4>{0, 20, 24, kNoState}
                                             : std::array<size_t, 4>{0, 4, 8, kNoState})
                                       : (v6 ? std::array<size_t, 4>{0, 20, 52, 48}
                                             : std::array<size_t, 4>{4, 8, 20, 0});
  const size_t size =
      udp ? (v6 ? (module ? kWinUdp6RowOwnerModuleSize : kWinUdp6RowOwnerPidSize)
                : (module ? kWinUdpRowOwnerModuleSize : kWinUdpRowOwnerPidSize))
          : (v6 ? (module ? kWinTcp6RowOwnerModuleSize : kWinTcp6RowOwnerPidSize)
                : (module ? kWinTcpRowOwnerModuleSize : kWinTcpRowOwnerPidSize));
  const size_t header = module ? kWinOwnerModuleTableHeaderSize : kWinOwnerPidTableHeaderSize;
  std::vector<Row> rows;
  for (uint64_t i = 0, count = fuzz::LoadLe(b, 0, 4); i < count; ++i) {
    const std::span<const uint8_t> r = b.subspan(header + i * size, size);
    if (at[3] != kNoState && fuzz::LoadLe(r, at[3], 4) != kWinTcpStateListen) continue;
    Row row;
    row.ip.v6 = v6;
    std::copy_n(r.begin() + at[0], v6 ? 16 : 4, row.ip.bytes.begin());
    row.port = static_cast<uint16_t>(r[at[1]] << 8 | r[at[1] + 1]);
    row.pid = static_cast<uint32_t>(fuzz::LoadLe(r, at[2], 4));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t selector = fuzz::TakeSelector(data, size);
  const bool udp = selector & 1, v6 = selector & 2, module = selector & 4;
  const Family family = v6 ? Family::kIpv6 : Family::kIpv4;
  const WinTableClass table_class = module ? WinTableClass::kOwnerModule : WinTableClass::kOwnerPid;
  const std::span<const uint8_t> buffer(data, size);
  auto sockets = udp ? DecodeWinUdpTable(buffer, family, table_class)
                     : DecodeWinTcpTable(buffer, family, table_class);
  if (!sockets) return 0;
  const std::vector<Row> rows = Reference(buffer, udp, v6, module);
  PORTWARDEN_FUZZ_CHECK(sockets->size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const SocketEntry& s = (*sockets)[i];
    PORTWARDEN_FUZZ_CHECK(s.family == family && s.proto == (udp ? Proto::kUdp : Proto::kTcp));
    PORTWARDEN_FUZZ_CHECK(fuzz::IsTextOf(s.address, rows[i].ip) && s.port == rows[i].port &&
                          s.pid == rows[i].pid);
  }
  return 0;
}
