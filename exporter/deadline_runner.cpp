#include "exporter/deadline_runner.h"

namespace portwarden {

DeadlineRunner::DeadlineRunner()
    : state_(std::make_shared<State>()), thread_([state = state_] { Loop(state); }) {}

DeadlineRunner::~DeadlineRunner() {
  bool hung;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    state_->task = nullptr;
    hung = state_->busy;
  }
  state_->cv.notify_all();
  if (hung) {
    thread_.detach();  // it holds the state; it ends when the task returns
  } else {
    thread_.join();
  }
}

void DeadlineRunner::Loop(std::shared_ptr<State> state) {
  std::unique_lock lock(state->mu);
  while (true) {
    state->cv.wait(lock, [&] { return state->stopping || state->task; });
    if (state->stopping) return;
    std::function<void()> task = std::move(state->task);
    state->task = nullptr;
    state->busy = true;
    lock.unlock();
    task();
    task = nullptr;  // what it captured goes now, not with the next task
    lock.lock();
    state->busy = false;
    ++state->finished;
    state->cv.notify_all();
  }
}

bool DeadlineRunner::Run(std::function<void()> task, std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(state_->mu);
  // An overrun task from an earlier Run may still be running: it gets this deadline too.
  if (!state_->cv.wait_until(lock, deadline, [&] { return !state_->busy && !state_->task; })) {
    return false;
  }
  state_->task = std::move(task);
  const unsigned long mine = ++started_;
  state_->cv.notify_all();
  return state_->cv.wait_until(lock, deadline, [&] { return state_->finished >= mine; });
}

}  // namespace portwarden
