#include "exporter/sampler.h"

#include <map>
#include <string>

#include "collectors/common/clock.h"
#include "exporter/heap.h"
#include "exporter/logging.h"
#include "exporter/metrics.h"

namespace portwarden {

namespace {

// Every transition is logged once: raises and owner changes as warnings, the rest as info.
void LogEvent(spdlog::logger& log, const Event& e) {
  const std::string port = std::to_string(e.port);
  const bool warn = e.type == "finding_raised" || e.type == "bind_failed";
  Log(log, warn ? spdlog::level::warn : spdlog::level::info, e.type,
      {{"kind", e.kind},
       {"rule", e.rule},
       {"proto", ToString(e.proto)},
       {"address", e.address},
       {"port", port},
       {"owner", e.owner},
       {"detail", e.detail}});
}

}  // namespace

Sampler::Sampler(std::unique_ptr<Collectors> collectors, Config config,
                 std::shared_ptr<spdlog::logger> logger, CycleObserver observer)
    : collectors_(std::move(collectors)),
      logger_(std::move(logger)),
      observer_(std::move(observer)),
      config_(std::move(config)),
      monitor_(config_.listener_filter.max_series) {
  reload_.success_timestamp = UnixNow();
}

Sampler::~Sampler() { Stop(); }

void Sampler::Start() { thread_ = std::thread([this] { Loop(); }); }

void Sampler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const Snapshot> Sampler::Latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

void Sampler::SetConfig(Config config) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
  reload_ = {true, UnixNow()};
}

void Sampler::ReloadFailed() {
  std::lock_guard lock(mu_);
  reload_.successful = false;
}

ReloadStatus Sampler::Reload() const {
  std::lock_guard lock(mu_);
  return reload_;
}

void Sampler::SetBindSource(std::string source) {
  std::lock_guard lock(mu_);
  bind_source_ = std::move(source);
}

void Sampler::Notify(std::vector<BindEvent> events, uint64_t dropped) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    bind_dropped_ = dropped;
    if (bind_seen_.size() > 10000) bind_seen_.clear();  // bounded; forgetting only wakes once more
    for (BindEvent& e : events) {
      wake = wake || e.kind == BindEvent::Kind::kListening ||
             bind_seen_
                 .insert(std::string(ToString(e.proto)) + "|" + e.address + "|" +
                         std::to_string(e.port) + "|" + std::to_string(e.caller.pid))
                 .second;
      bind_events_.push_back(std::move(e));
    }
    early_ = early_ || wake;
  }
  if (wake) wake_.notify_all();
}

void Sampler::Loop() {
  std::unique_lock lock(mu_);
  std::map<std::string, bool> healthy;  // per collector, to log state changes only
  while (!stopping_) {
    Config config = config_;
    const auto started = std::chrono::steady_clock::now();
    auto next = started + config.collect_interval;
    early_ = false;
    lock.unlock();
    auto snap = std::make_shared<Snapshot>(collectors_->Collect(config));
    lock.lock();
    snap->bind_events = std::move(bind_events_);
    bind_events_.clear();
    snap->bind_source = bind_source_;
    snap->bind_events_dropped = bind_dropped_;
    lock.unlock();
    std::shared_ptr<const Snapshot> last = Latest();
    if (snap->collectors.front().success) {  // listeners: what the policy judges
      auto [policy, events] = monitor_.Observe(*snap, config.expectations);
      snap->policy = std::move(policy);
      for (const Event& e : events) LogEvent(*logger_, e);
    } else if (last) {
      snap->policy = last->policy;  // unknown state: the findings stay as they were
    }
    // Unchanged listeners: their /metrics families, rendered at most once, are handed on.
    snap->listener_body = last && (last->listeners == snap->listeners ||
                                   last->listeners->listeners == snap->listeners->listeners)
                              ? last->listener_body
                              : ListenerBody(snap->listeners);
    for (const auto& c : snap->collectors) {
      // Log state changes only: a collector failing every cycle logs once, not every 5s.
      auto it = healthy.try_emplace(c.name, true).first;
      if (c.success != it->second) {
        if (c.success) {
          Log(*logger_, spdlog::level::info, "collector recovered", {{"collector", c.name}});
        } else {
          Log(*logger_, spdlog::level::err, "collector failed",
              {{"collector", c.name}, {"err", c.error}});
        }
        it->second = c.success;
      }
    }
    if (observer_) observer_(*snap);
    const bool changed = !last || last->listeners != snap->listeners;
    last.reset();
    lock.lock();
    latest_ = std::move(snap);
    lock.unlock();
    // A new listener set freed the one before it (megabytes with thousands of listeners).
    if (changed) ReleaseFreeHeap();
    lock.lock();
    wake_.wait_until(lock, next, [this] { return stopping_ || early_; });
    wake_.wait_until(lock, started + kMinEarlyGap, [this] { return stopping_; });
  }
}

}  // namespace portwarden
