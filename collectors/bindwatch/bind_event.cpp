#include "collectors/bindwatch/bind_event.h"

#include <cstring>

#include "collectors/listeners/address.h"

namespace portwarden {
namespace {

constexpr int kLinuxEacces = 13;
constexpr int kLinuxEaddrinuse = 98;

template <typename T>
T Read(std::span<const uint8_t> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

}  // namespace

std::string ErrnoName(int error) {
  switch (error) {
    case kLinuxEacces:
      return "EACCES";
    case kLinuxEaddrinuse:
      return "EADDRINUSE";
    default:
      return "errno " + std::to_string(error);
  }
}

std::string_view CallName(BindEvent::Kind kind) {
  return kind == BindEvent::Kind::kListenFailed ? "listen" : "bind";
}

Expected<BindEvent> DecodeBindRecord(std::span<const uint8_t> record) {
  if (record.size() != kBindRecordSize) {
    return Error{"bind record of " + std::to_string(record.size()) + " bytes, expected " +
                 std::to_string(kBindRecordSize)};
  }
  BindEvent e;
  const auto kind = Read<uint32_t>(record, 0);
  if (kind < 1 || kind > 3) return Error{"bind record of unknown kind " + std::to_string(kind)};
  e.kind = static_cast<BindEvent::Kind>(kind - 1);
  e.caller.pid = Read<uint32_t>(record, 4);
  e.error = Read<int32_t>(record, 8);
  const auto family = Read<uint16_t>(record, 12);
  e.port = Read<uint16_t>(record, 14);
  const uint8_t* address = record.data() + 16;
  if (family == 2) {
    e.family = Family::kIpv4;
    e.address = FormatIpv4(address);
  } else if (family == 10) {
    e.family = Family::kIpv6;
    e.address = FormatIpv6(address);
  } else {
    return Error{"bind record of unknown address family " + std::to_string(family)};
  }
  const uint8_t protocol = record[32];
  if (protocol == 6) {
    e.proto = Proto::kTcp;
  } else if (protocol == 17) {
    e.proto = Proto::kUdp;
  } else {
    return Error{"bind record of IP protocol " + std::to_string(protocol) + " (not TCP or UDP)"};
  }
  const char* comm = reinterpret_cast<const char*>(record.data() + 40);
  e.caller.name.assign(comm, strnlen(comm, 16));
  return e;
}

}  // namespace portwarden
