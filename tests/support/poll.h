#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace portwarden::testing {

/// Polls cond every 20 ms until it holds or the deadline passes; returns its last value.
/// The default deadline is generous because only a failing test waits it out: on a loaded
/// 2-core machine a daemon's first full scan of /proc alone can take seconds.
/// Header-only and portable: unit tests built for Windows use it too.
inline bool PollUntil(const std::function<bool()>& cond,
                      std::chrono::milliseconds deadline = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= end) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace portwarden::testing
