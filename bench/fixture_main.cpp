// portwarden-fixture: builds the benchmark's busy host on loopback and keeps it until
// Ctrl-C (or --for SECONDS), for measuring other tools by hand. Every process it starts
// dies with it, however it ends.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "bench/fixture.h"

namespace {

[[noreturn]] void Usage(const char* error) {
  std::fprintf(stderr,
               "portwarden-fixture: %s\n"
               "usage: portwarden-fixture [--processes P] [--workers W] [--listeners L]\n"
               "  [--udp U] [--established E] [--extra-fds F] [--namespaces N]\n"
               "  [--namespace-listeners L] [--busy] [--for SECONDS]\n",
               error);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  portwarden::bench::FixtureOptions o;
  int seconds = 0;
  const std::map<std::string, int*> flags = {{"--processes", &o.processes},
                                             {"--workers", &o.workers},
                                             {"--listeners", &o.listeners},
                                             {"--udp", &o.udp},
                                             {"--established", &o.established},
                                             {"--extra-fds", &o.extra_fds},
                                             {"--namespaces", &o.namespaces},
                                             {"--namespace-listeners", &o.namespace_listeners},
                                             {"--for", &seconds}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--busy") {
      o.busy = true;
      continue;
    }
    auto flag = flags.find(arg);
    if (flag == flags.end()) Usage(("unknown argument " + arg).c_str());
    if (i + 1 >= argc) Usage(("missing value for " + arg).c_str());
    *flag->second = std::atoi(argv[++i]);
  }
  portwarden::bench::Fixture fixture(o);
  std::printf("fixture ready: %zu processes, %llu fds on the host; Ctrl-C ends it\n",
              fixture.Pids().size(),
              static_cast<unsigned long long>(portwarden::bench::CountHostFds()));
  std::fflush(stdout);
  if (seconds > 0) {
    sleep(static_cast<unsigned>(seconds));
  } else {
    for (;;) pause();
  }
  return 0;
}
