// ParseConfig: the daemon's YAML config, expectations included.
#include "exporter/config.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = portwarden::ParseConfig(portwarden::fuzz::AsText(data, size), "fuzz.yml");
  if (config) {
    PORTWARDEN_FUZZ_CHECK(config->collect_interval.count() > 0);
    PORTWARDEN_FUZZ_CHECK(config->listener_filter.max_series > 0);
    for (const auto& e : config->expectations) PORTWARDEN_FUZZ_CHECK(!e.listen.empty());
  } else {
    PORTWARDEN_FUZZ_CHECK(config.error().message.starts_with("fuzz.yml"));
  }
  return 0;
}
