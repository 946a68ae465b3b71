#include "collectors/listeners/scan_plan.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace portwarden {

std::vector<uint32_t> OrderSearch(std::vector<SearchCandidate> candidates,
                                  const std::vector<uint32_t>& socket_uids) {
  auto rank = [&](const SearchCandidate& c) {
    bool uid_match = std::find(socket_uids.begin(), socket_uids.end(), c.uid) != socket_uids.end();
    if (c.fd_count_changed) return c.holder ? 0 : (uid_match ? 1 : 2);
    if (c.young) return 3;
    if (c.holder) return uid_match ? 4 : 5;
    return uid_match ? 6 : 7;
  };
  std::vector<std::pair<int, uint32_t>> keyed;
  keyed.reserve(candidates.size());
  for (const auto& c : candidates) keyed.emplace_back(rank(c), c.pid);
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, b.second) < std::tie(b.first, a.second);
  });
  std::vector<uint32_t> order;
  order.reserve(keyed.size());
  for (const auto& [r, pid] : keyed) order.push_back(pid);
  return order;
}

size_t SweepCount(size_t processes, double elapsed_s, double period_s, int min_cycles) {
  if (processes == 0) return 0;
  double n = static_cast<double>(processes);
  double share = n / std::max(min_cycles, 1);
  if (period_s > 0) share = std::min(share, std::max(elapsed_s, 0.0) * n / period_s);
  auto count = static_cast<size_t>(std::ceil(share));
  return std::clamp<size_t>(count, 1, processes);
}

void ScanBudget::Refill(double now_s, uint64_t full_scan_fds) {
  double cap = static_cast<double>(std::max<uint64_t>(full_scan_fds, 1));
  if (last_s_ < 0) {
    tokens_ = cap;
  } else if (refill_s_ > 0) {
    tokens_ = std::min(cap, tokens_ + cap * std::max(now_s - last_s_, 0.0) / refill_s_);
  } else {
    tokens_ = cap;
  }
  last_s_ = now_s;
}

}  // namespace portwarden
