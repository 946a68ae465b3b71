// DecodeBindRecord: one ring-buffer record of bindwatch.bpf.c, checked against the layout
// read here byte by byte: both accept the same records and find the same fields.
#include "collectors/bindwatch/bind_event.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

uint32_t Le(const uint8_t* b, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | b[i];
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto decoded = portwarden::DecodeBindRecord({data, size});
  const bool valid = size == 56 && Le(data, 4) >= 1 && Le(data, 4) <= 3 &&
                     (Le(data + 12, 2) == 2 || Le(data + 12, 2) == 10) &&
                     (data[32] == 6 || data[32] == 17);
  PORTWARDEN_FUZZ_CHECK(decoded.ok() == valid);
  if (!valid) return 0;
  PORTWARDEN_FUZZ_CHECK(static_cast<uint32_t>(decoded->kind) + 1 == Le(data, 4));
  PORTWARDEN_FUZZ_CHECK(decoded->caller.pid == Le(data + 4, 4));
  PORTWARDEN_FUZZ_CHECK(static_cast<uint32_t>(decoded->error) == Le(data + 8, 4));
  PORTWARDEN_FUZZ_CHECK(decoded->port == Le(data + 14, 2));
  PORTWARDEN_FUZZ_CHECK(decoded->caller.name.size() <= 16);
  PORTWARDEN_FUZZ_CHECK(!decoded->address.empty());
  return 0;
}
