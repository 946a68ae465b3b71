#pragma once

#include <chrono>

namespace portwarden {

/// The wall clock as Unix seconds (the time of samples, events and notifications).
inline double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace portwarden
