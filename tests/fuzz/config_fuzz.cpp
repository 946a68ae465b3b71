// ParseConfig: the daemon's YAML config, expectations included. An error names the file and
// a line of the text; a config has positive durations, port ranges 1 <= first <= last,
// backoff initial <= max, alert labels that are label names and not a finding's own, and
// expectations with unique names, each listen address canonical, printed back
// (ToString) in a config of its own parsing to the same address, port and protocol.
#include <algorithm>
#include <set>
#include <string>

#include "exporter/config.h"
#include "exporter/policy/address.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool IsLabelName(const std::string& name) {
  return !name.empty() && !name.starts_with("__") && (name[0] < '0' || name[0] > '9') &&
         name.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
             std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  constexpr std::string_view kFile = "fuzz.yml";
  const std::string_view text = fuzz::AsText(data, size);
  auto config = fuzz::ParseYaml(ParseConfig, text, kFile);
  if (!config) return 0;
  PORTWARDEN_FUZZ_CHECK(config->collect_interval.count() > 0 &&
                        config->collect_timeout.count() > 0 &&
                        config->httpsys.netsh_timeout.count() > 0);
  PORTWARDEN_FUZZ_CHECK(config->listener_filter.max_series > 0);
  for (const auto* ranges : {&config->listener_filter.include, &config->listener_filter.exclude}) {
    for (const PortRange& r : *ranges) PORTWARDEN_FUZZ_CHECK(r.first >= 1 && r.first <= r.last);
  }
  if (const auto& a = config->alerting) {
    PORTWARDEN_FUZZ_CHECK(!a->alertmanagers.empty() || !a->webhooks.empty());
    PORTWARDEN_FUZZ_CHECK(a->backoff_initial <= a->backoff_max);
    for (const auto& [name, value] : a->labels) {
      PORTWARDEN_FUZZ_CHECK(IsLabelName(name));
      PORTWARDEN_FUZZ_CHECK(std::find(notifier::kFindingLabels.begin(),
                                      notifier::kFindingLabels.end(),
                                      name) == notifier::kFindingLabels.end());
    }
  }
  std::set<std::string> names;
  for (const policy::Expectation& e : config->expectations) {
    PORTWARDEN_FUZZ_CHECK(!e.name.empty() && names.insert(e.name).second);
    PORTWARDEN_FUZZ_CHECK(fuzz::NamesPlaceIn(e.source + ": ", kFile, text));
    PORTWARDEN_FUZZ_CHECK(!e.listen.empty());
    for (const policy::ListenSpec& spec : e.listen) {
      PORTWARDEN_FUZZ_CHECK(spec.port != 0);
      PORTWARDEN_FUZZ_CHECK(spec.AnyAddress() ||
                            policy::CanonicalAddress(spec.address) == spec.address);
      const std::string printed = "expect:\n  - name: x\n    listen: \"" + policy::ToString(spec) +
                                  "\"\n    exclusive: true\n";
      auto again = ParseConfig(printed, kFile);
      PORTWARDEN_FUZZ_CHECK(again && again->expectations.size() == 1 &&
                            again->expectations[0].listen.size() == 1 &&
                            again->expectations[0].listen[0] == spec);
    }
  }
  return 0;
}
