#include "exporter/bind_watcher.h"

#include <chrono>

#include "exporter/logging.h"

namespace portwarden {
namespace {

#ifdef _WIN32
constexpr auto kNoSourceLevel = spdlog::level::info;  // Windows has none: nothing to warn of
#else
constexpr auto kNoSourceLevel = spdlog::level::warn;
#endif

constexpr std::chrono::milliseconds kBatchWindow{10};

}  // namespace

BindWatcher::BindWatcher(Sampler& sampler, std::shared_ptr<spdlog::logger> logger)
    : sampler_(sampler), logger_(std::move(logger)) {}

BindWatcher::~BindWatcher() { Stop(); }

void BindWatcher::Start() {
  auto source = OpenBindEventSource();
  if (!source) {
    Log(*logger_, kNoSourceLevel,
        "no bind event source; failed binds are not seen, listeners only at each cycle",
        {{"err", source.error().message}});
    return;
  }
  source_ = std::move(*source);
  sampler_.SetBindSource(source_->Name());
  Log(*logger_, spdlog::level::info, "bind event source started", {{"source", source_->Name()}});
  thread_ = std::thread([this] {
    while (!stopping_) {
      auto events = source_->Poll(250);  // also how long Stop() may wait
      if (events.empty()) continue;
      sampler_.Notify(std::move(events), source_->Dropped());
      // Lets a burst gather: at most one wakeup per kBatchWindow however fast binds fail
      // (the kernel skips its wakeups too while this thread is behind).
      std::this_thread::sleep_for(kBatchWindow);
    }
  });
}

void BindWatcher::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  source_.reset();
}

}  // namespace portwarden
