// Builds without a kernel event source: Windows (see the README's "Failed binds" section)
// and Linux builds made without clang, bpftool, libbpf or kernel BTF.
#include "collectors/bindwatch/source.h"

namespace portwarden {

Expected<std::unique_ptr<BindEventSource>> OpenBindEventSource() {
#ifdef _WIN32
  return Error{"no bind event source on Windows"};
#else
  return Error{"built without eBPF (clang, bpftool, libbpf-dev or /sys/kernel/btf/vmlinux "
               "were missing at build time)"};
#endif
}

}  // namespace portwarden
