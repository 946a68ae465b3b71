// Port proxies: the RTM_GETADDR decoder and the command-line parser get the same bytes; each
// must reject what is not its format without reading past it.
#include <string>

#include "collectors/listeners/proxy.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  if (auto batch = DecodeAddrDump(std::span<const uint8_t>(data, size))) {
    for (const std::string& a : batch->addresses) PORTWARDEN_FUZZ_CHECK(!a.empty() && a.size() <= 39);
  }
  const std::string_view text = fuzz::AsText(data, size);
  if (auto t = ParseProxyCmdline(text)) {
    // Whatever names the target was on the line.
    for (const std::string* field : {&t->container_ip, &t->netns_path, &t->container_id, &t->pid_file}) {
      PORTWARDEN_FUZZ_CHECK(field->empty() || text.find(*field) != std::string_view::npos);
    }
    PORTWARDEN_FUZZ_CHECK(t->pid == 0 || text.find(std::to_string(t->pid)) != std::string_view::npos);
  }
  return 0;
}
