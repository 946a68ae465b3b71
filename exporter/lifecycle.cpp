#include "exporter/lifecycle.h"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace portwarden {
namespace {

std::mutex g_mu;
std::condition_variable g_cv;
std::deque<ControlEvent> g_events;

}  // namespace

ControlEvent ControlEvents::Wait() {
  std::unique_lock lock(g_mu);
  g_cv.wait(lock, [] { return !g_events.empty(); });
  ControlEvent e = g_events.front();
  g_events.pop_front();
  return e;
}

void ControlEvents::Post(ControlEvent event) {
  {
    std::lock_guard lock(g_mu);
    g_events.push_back(event);
  }
  g_cv.notify_all();
}

}  // namespace portwarden
