#include <signal.h>

#include <thread>

#include "exporter/lifecycle.h"

namespace portwarden {

void ControlEvents::Install() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      Post(sig == SIGHUP ? ControlEvent::kReload : ControlEvent::kStop);
    }
  }).detach();
}

}  // namespace portwarden
