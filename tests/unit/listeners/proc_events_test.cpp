// The proc connector decoder on synthesized datagrams (layouts of connector.h / cn_proc.h).
#include "collectors/listeners/proc_events.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace portwarden {
namespace {

using Kind = ProcEvent::Kind;

void Put32(std::vector<uint8_t>& b, uint32_t v) {
  uint8_t raw[4];
  std::memcpy(raw, &v, 4);
  b.insert(b.end(), raw, raw + 4);
}
void Put16(std::vector<uint8_t>& b, uint16_t v) {
  uint8_t raw[2];
  std::memcpy(raw, &v, 2);
  b.insert(b.end(), raw, raw + 2);
}

// One netlink message: nlmsghdr + cn_msg + proc_event header + the given event data.
std::vector<uint8_t> Message(uint32_t what, const std::vector<uint32_t>& data, uint32_t idx = 1,
                             uint16_t type = 3) {
  std::vector<uint8_t> event;
  Put32(event, what);
  Put32(event, 0);  // cpu
  Put32(event, 0);  // timestamp_ns, 8 bytes
  Put32(event, 0);
  for (uint32_t v : data) Put32(event, v);
  std::vector<uint8_t> m;
  Put32(m, static_cast<uint32_t>(16 + 20 + event.size()));
  Put16(m, type);
  Put16(m, 0);
  Put32(m, 0);
  Put32(m, 0);
  Put32(m, idx);  // cb_id.idx
  Put32(m, 1);    // cb_id.val
  Put32(m, 0);    // seq
  Put32(m, 0);    // ack
  Put16(m, static_cast<uint16_t>(event.size()));
  Put16(m, 0);
  m.insert(m.end(), event.begin(), event.end());
  return m;
}

std::vector<uint8_t> Cat(std::vector<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

constexpr uint32_t kFork = 1, kExec = 2, kUid = 4, kGid = 0x40, kComm = 0x200, kExit = 0x80000000;

TEST(ProcEvents, ControlMessageSubscribesAndUnsubscribes) {
  for (bool listen : {true, false}) {
    std::vector<uint8_t> m = BuildProcEventsControl(listen, 7);
    ASSERT_EQ(m.size(), 40u);  // nlmsghdr 16 + cn_msg 20 + op 4
    uint32_t len, idx, val, op;
    uint16_t type, cn_len;
    std::memcpy(&len, m.data(), 4);
    std::memcpy(&type, m.data() + 4, 2);
    std::memcpy(&idx, m.data() + 16, 4);
    std::memcpy(&val, m.data() + 20, 4);
    std::memcpy(&cn_len, m.data() + 32, 2);
    std::memcpy(&op, m.data() + 36, 4);
    EXPECT_EQ(len, 40u);
    EXPECT_EQ(type, 3);  // NLMSG_DONE, as the connector expects
    EXPECT_EQ(idx, 1u);
    EXPECT_EQ(val, 1u);
    EXPECT_EQ(cn_len, 4);
    EXPECT_EQ(op, listen ? 1u : 2u);
  }
}

TEST(ProcEvents, DecodesProcessEventsAndDropsThreadEvents) {
  auto datagram = Cat({
      Message(kFork, {100, 100, 200, 200}),  // process 100 forks process 200
      Message(kFork, {100, 100, 201, 100}),  // thread 201 inside process 100
      Message(kExec, {200, 200}),
      Message(kUid, {200, 200, 33, 33}),
      Message(kComm, {200, 200, 0x6e69676e, 0x78, 0, 0}),
      Message(kExit, {202, 100, 0, 0, 1, 1}),  // a thread of 100 ends
      Message(kExit, {200, 200, 0, 17, 100, 100}),
  });
  auto events = DecodeProcEvents(datagram);
  ASSERT_TRUE(events) << events.error().message;
  ASSERT_EQ(events->size(), 5u);
  EXPECT_EQ((*events)[0].kind, Kind::kFork);
  EXPECT_EQ((*events)[0].pid, 200u);
  EXPECT_EQ((*events)[0].parent, 100u);
  EXPECT_EQ((*events)[1].kind, Kind::kExec);
  EXPECT_EQ((*events)[2].kind, Kind::kUid);
  EXPECT_EQ((*events)[3].kind, Kind::kComm);
  EXPECT_EQ((*events)[4].kind, Kind::kExit);
  for (size_t i = 1; i < 5; ++i) EXPECT_EQ((*events)[i].pid, 200u);
}

TEST(ProcEvents, ForkParentIsTheThreadGroup) {
  // A fork from a secondary thread (pid 105) of process 100: the parent is process 100.
  auto events = DecodeProcEvents(Message(kFork, {105, 100, 300, 300}));
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].parent, 100u);
}

TEST(ProcEvents, SkipsAcksOtherTypesOtherConnectorsAndNoops) {
  auto datagram = Cat({
      Message(0, {0}),  // PROC_EVENT_NONE: the subscription ack
      Message(kGid, {5, 5, 0, 0}),
      Message(kFork, {1, 1, 2, 2}, /*idx=*/4),  // another connector user
      Message(kExec, {9, 9}, 1, /*type=*/1),    // NLMSG_NOOP
  });
  auto events = DecodeProcEvents(datagram);
  ASSERT_TRUE(events) << events.error().message;
  EXPECT_TRUE(events->empty());
}

TEST(ProcEvents, EmptyDatagramHasNoEvents) {
  auto events = DecodeProcEvents({});
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

TEST(ProcEvents, RejectsTruncatedHeader) {
  auto m = Message(kExec, {1, 1});
  auto events = DecodeProcEvents(std::span<const uint8_t>(m.data(), 10));
  ASSERT_FALSE(events);
  EXPECT_NE(events.error().message.find("truncated message header"), std::string::npos);
}

TEST(ProcEvents, RejectsMessageLongerThanDatagram) {
  auto m = Message(kExec, {1, 1});
  uint32_t absurd = 1u << 20;
  std::memcpy(m.data(), &absurd, 4);
  auto events = DecodeProcEvents(m);
  ASSERT_FALSE(events);
  EXPECT_NE(events.error().message.find("does not fit"), std::string::npos);
}

TEST(ProcEvents, RejectsConnectorLengthBeyondItsMessage) {
  auto m = Message(kExec, {1, 1});
  uint16_t absurd = 60000;
  std::memcpy(m.data() + 32, &absurd, 2);
  auto events = DecodeProcEvents(m);
  ASSERT_FALSE(events);
  EXPECT_NE(events.error().message.find("exceeds"), std::string::npos);
}

TEST(ProcEvents, RejectsEventTooShortForItsType) {
  // A fork record needs four pids; this one carries two.
  auto events = DecodeProcEvents(Message(kFork, {1, 1}));
  ASSERT_FALSE(events);
  EXPECT_NE(events.error().message.find("needs 16"), std::string::npos);
}

TEST(ProcEvents, RejectsKernelErrorAndUnknownType) {
  auto err = Message(kExec, {1, 1}, 1, /*type=*/2);
  int32_t code = -1;
  std::memcpy(err.data() + 16, &code, 4);
  auto events = DecodeProcEvents(err);
  ASSERT_FALSE(events);
  EXPECT_NE(events.error().message.find("error 1"), std::string::npos);
  EXPECT_FALSE(DecodeProcEvents(Message(kExec, {1, 1}, 1, /*type=*/20)));
}

}  // namespace
}  // namespace portwarden
