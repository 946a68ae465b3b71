// DecodeProcEvents: a datagram from the proc connector's multicast group, checked against a
// second decoder written here from the kernel's layout byte by byte: both accept the same
// datagrams and find the same events.
#include <optional>
#include <vector>

#include "collectors/listeners/proc_events.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using portwarden::ProcEvent;

uint32_t Le(std::span<const uint8_t> b, size_t at, int bytes) {
  return static_cast<uint32_t>(portwarden::fuzz::LoadLe(b, at, bytes));
}

// nlmsghdr (len, type, ...) 16 bytes; cn_msg (idx, val, seq, ack, len, flags) 20 bytes;
// proc_event (what, cpu, timestamp) 16 bytes, then the event's pids (linux/cn_proc.h).
std::optional<std::vector<ProcEvent>> Reference(std::span<const uint8_t> d) {
  std::vector<ProcEvent> events;
  size_t off = 0;
  while (off < d.size()) {
    if (d.size() - off < 16) return std::nullopt;
    const uint32_t len = Le(d, off, 4);
    const uint32_t type = Le(d, off + 4, 2);
    if (len < 16 || len > d.size() - off) return std::nullopt;
    const std::span<const uint8_t> msg = d.subspan(off + 16, len - 16);
    off += (len + 3) / 4 * 4;
    if (type == 1) continue;               // NLMSG_NOOP
    if (type != 3) return std::nullopt;    // NLMSG_ERROR, or not the connector's NLMSG_DONE
    if (msg.size() < 20) return std::nullopt;
    const uint32_t cn_len = Le(msg, 16, 2);
    if (cn_len > msg.size() - 20) return std::nullopt;
    if (Le(msg, 0, 4) != 1 || Le(msg, 4, 4) != 1) continue;  // not CN_IDX_PROC, CN_VAL_PROC
    if (cn_len < 16) return std::nullopt;
    const std::span<const uint8_t> pids = msg.subspan(20 + 16, cn_len - 16);
    const uint32_t what = Le(msg, 20, 4);
    if (what == 0x1) {  // PROC_EVENT_FORK: parent pid, parent tgid, child pid, child tgid
      if (pids.size() < 16) return std::nullopt;
      if (Le(pids, 8, 4) == Le(pids, 12, 4)) {
        events.push_back({ProcEvent::Kind::kFork, Le(pids, 12, 4), Le(pids, 4, 4)});
      }
      continue;
    }
    ProcEvent::Kind kind;
    switch (what) {
      case 0x2: kind = ProcEvent::Kind::kExec; break;
      case 0x4: kind = ProcEvent::Kind::kUid; break;
      case 0x200: kind = ProcEvent::Kind::kComm; break;
      case 0x80000000: kind = ProcEvent::Kind::kExit; break;
      default: continue;
    }
    if (pids.size() < 8) return std::nullopt;  // process pid, process tgid
    if (Le(pids, 0, 4) == Le(pids, 4, 4)) events.push_back({kind, Le(pids, 4, 4), 0});
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> datagram(data, size);
  auto decoded = portwarden::DecodeProcEvents(datagram);
  auto expected = Reference(datagram);
  PORTWARDEN_FUZZ_CHECK(decoded.ok() == expected.has_value());
  if (!expected) return 0;
  PORTWARDEN_FUZZ_CHECK(decoded->size() == expected->size());
  for (size_t i = 0; i < expected->size(); ++i) {
    const ProcEvent& a = (*decoded)[i];
    const ProcEvent& b = (*expected)[i];
    PORTWARDEN_FUZZ_CHECK(a.kind == b.kind && a.pid == b.pid && a.parent == b.parent);
  }
  return 0;
}
