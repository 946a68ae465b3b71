#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collectors/bindwatch/bind_event.h"
#include "collectors/common/expected.h"

namespace portwarden {

/// The thin OS layer of the bind watch: a kernel event source of failed bind()/listen()
/// calls and new listeners. One implementation per platform and build: source_ebpf_linux.cpp
/// (eBPF), source_none.cpp (everything else). Not thread-safe: one thread polls.
class BindEventSource {
 public:
  virtual ~BindEventSource() = default;
  /// Waits up to `timeout_ms` for events and returns those that arrived, oldest first,
  /// each with its time and its caller.
  virtual std::vector<BindEvent> Poll(int timeout_ms) = 0;
  /// Events lost so far: the kernel could not queue them, or they did not decode.
  virtual uint64_t Dropped() const = 0;
  /// "ebpf": the value of portwarden_bind_event_source_info{source}.
  virtual std::string Name() const = 0;
};

/// Opens the platform's source and proves that it delivers events; an error says why there
/// is none (not permitted, not built in, not supported on this OS).
Expected<std::unique_ptr<BindEventSource>> OpenBindEventSource();

}  // namespace portwarden
