#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace portwarden {

/// Runs tasks one at a time on a thread of its own and waits for each at most a deadline,
/// so a collector that hangs (a D-state /proc read, a wedged OS API) cannot stop the
/// sampling loop. A task that overruns keeps running; its result is dropped, and the next
/// Run waits for it within its own deadline before starting another (one task at a time:
/// a collector's state is never used by two threads). Not thread-safe: one caller.
class DeadlineRunner {
 public:
  DeadlineRunner();
  /// Joins the thread, or, if a task is still running (hung), leaves it behind: the task
  /// must own what it uses (shared_ptr captures), as it may outlive the runner.
  ~DeadlineRunner();
  DeadlineRunner(const DeadlineRunner&) = delete;
  DeadlineRunner& operator=(const DeadlineRunner&) = delete;

  /// Runs `task`; true if it finished within `timeout`, false if it (or the previous
  /// task, still running) did not, in which case `task` may run later or not at all.
  bool Run(std::function<void()> task, std::chrono::steady_clock::duration timeout);

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::function<void()> task;  // set: waiting to run
    bool busy = false;           // a task is running
    unsigned long finished = 0;  // tasks finished so far
    bool stopping = false;
  };
  static void Loop(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  unsigned long started_ = 0;  // tasks handed over so far
  std::thread thread_;
};

/// Runs `fn` on `runner` within `timeout`: its result, or nullopt if it overran.
template <class T>
std::optional<T> RunWithDeadline(DeadlineRunner& runner, std::function<T()> fn,
                                 std::chrono::steady_clock::duration timeout) {
  auto slot = std::make_shared<std::optional<T>>();
  if (!runner.Run([slot, fn = std::move(fn)] { *slot = fn(); }, timeout)) return std::nullopt;
  return std::move(*slot);
}

}  // namespace portwarden
