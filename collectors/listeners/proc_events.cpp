#include "collectors/listeners/proc_events.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "collectors/listeners/netlink.h"

namespace portwarden {
namespace {

// Mirrors of the kernel UAPI (include/uapi/linux/connector.h, cn_proc.h), declared here so
// the decoder builds and is tested on every OS.
struct CnMsg {   // struct cn_msg
  uint32_t idx;  // struct cb_id
  uint32_t val;
  uint32_t seq;
  uint32_t ack;
  uint16_t len;  // payload bytes after this header
  uint16_t flags;
};
struct ProcEventHeader {  // the fixed part of struct proc_event
  uint32_t what;
  uint32_t cpu;
  uint64_t timestamp_ns;
};
static_assert(sizeof(CnMsg) == 20);
static_assert(sizeof(ProcEventHeader) == 16);

constexpr uint32_t kCnIdxProc = 1;    // CN_IDX_PROC
constexpr uint32_t kCnValProc = 1;    // CN_VAL_PROC
constexpr uint32_t kMcastListen = 1;  // PROC_CN_MCAST_LISTEN
constexpr uint32_t kMcastIgnore = 2;  // PROC_CN_MCAST_IGNORE

// enum proc_event::what
constexpr uint32_t kEventFork = 0x00000001;
constexpr uint32_t kEventExec = 0x00000002;
constexpr uint32_t kEventUid = 0x00000004;
constexpr uint32_t kEventComm = 0x00000200;
constexpr uint32_t kEventExit = 0x80000000;

// Bytes of event_data each type needs: fork_proc_event is 4 pids; exec, uid, comm and exit
// start with (process_pid, process_tgid), which is all that is read from them.
constexpr size_t kForkData = 16;
constexpr size_t kPidPairData = 8;

std::string Hex(uint32_t v) {
  char text[9];
  std::snprintf(text, sizeof text, "%x", v);
  return text;
}

uint32_t ReadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::vector<uint8_t> BuildProcEventsControl(bool listen, uint32_t seq) {
  netlink::MsgHdr hdr{};
  CnMsg cn{};
  uint32_t op = listen ? kMcastListen : kMcastIgnore;
  hdr.len = sizeof hdr + sizeof cn + sizeof op;
  hdr.type = netlink::kDone;  // the connector sends everything as NLMSG_DONE
  hdr.seq = seq;
  cn.idx = kCnIdxProc;
  cn.val = kCnValProc;
  cn.seq = seq;
  cn.len = sizeof op;
  std::vector<uint8_t> out(hdr.len);
  std::memcpy(out.data(), &hdr, sizeof hdr);
  std::memcpy(out.data() + sizeof hdr, &cn, sizeof cn);
  std::memcpy(out.data() + sizeof hdr + sizeof cn, &op, sizeof op);
  return out;
}

Expected<std::vector<ProcEvent>> DecodeProcEvents(std::span<const uint8_t> datagram) {
  using netlink::Next;
  std::vector<ProcEvent> events;
  auto walked = netlink::Walk(
      datagram, "proc connector",
      [&](uint16_t type, std::span<const uint8_t> message) -> Expected<Next> {
        if (type == netlink::kNoop) return Next::kContinue;
        if (type != netlink::kDone) {
          return Error{"proc connector: unexpected message type " + std::to_string(type)};
        }
        const uint8_t* payload = message.data();
        const size_t payload_len = message.size();
        if (payload_len < sizeof(CnMsg)) {
          return Error{"proc connector: connector header truncated to " +
                       std::to_string(payload_len) + " bytes"};
        }
        CnMsg cn;
        std::memcpy(&cn, payload, sizeof cn);
        if (cn.len > payload_len - sizeof cn) {
          return Error{"proc connector: payload length " + std::to_string(cn.len) +
                       " exceeds the " + std::to_string(payload_len - sizeof cn) +
                       " bytes of its message"};
        }
        if (cn.idx != kCnIdxProc || cn.val != kCnValProc) return Next::kContinue;
        if (cn.len < sizeof(ProcEventHeader)) {
          return Error{"proc connector: event truncated to " + std::to_string(cn.len) + " bytes"};
        }
        ProcEventHeader head;
        const uint8_t* event = payload + sizeof cn;
        std::memcpy(&head, event, sizeof head);
        const uint8_t* data = event + sizeof head;
        size_t data_len = cn.len - sizeof head;

        size_t need = 0;
        switch (head.what) {
          case kEventFork:
            need = kForkData;
            break;
          case kEventExec:
          case kEventUid:
          case kEventComm:
          case kEventExit:
            need = kPidPairData;
            break;
          default:
            return Next::kContinue;  // acks, gid, sid, ptrace, coredump: nothing to do
        }
        if (data_len < need) {
          return Error{"proc connector: event type 0x" + Hex(head.what) + " carries " +
                       std::to_string(data_len) + " bytes, needs " + std::to_string(need)};
        }
        if (head.what == kEventFork) {
          // fork_proc_event: parent_pid, parent_tgid, child_pid, child_tgid.
          uint32_t parent_tgid = ReadU32(data + 4);
          uint32_t child_pid = ReadU32(data + 8);
          uint32_t child_tgid = ReadU32(data + 12);
          if (child_pid != child_tgid) return Next::kContinue;  // a new thread, not a new process
          events.push_back({ProcEvent::Kind::kFork, child_tgid, parent_tgid});
          return Next::kContinue;
        }
        uint32_t pid = ReadU32(data);
        uint32_t tgid = ReadU32(data + 4);
        // Only the main thread's events speak for the process: /proc/PID shows its name, its
        // ids, and (once it has exited) no fds.
        if (pid != tgid) return Next::kContinue;
        ProcEvent::Kind kind = head.what == kEventExec   ? ProcEvent::Kind::kExec
                               : head.what == kEventUid  ? ProcEvent::Kind::kUid
                               : head.what == kEventComm ? ProcEvent::Kind::kComm
                                                         : ProcEvent::Kind::kExit;
        events.push_back({kind, tgid, 0});
        return Next::kContinue;
      });
  if (!walked) return walked.error();
  return events;
}

}  // namespace portwarden
