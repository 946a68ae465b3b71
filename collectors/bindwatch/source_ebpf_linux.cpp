// Linux: loads bindwatch.bpf.c (its skeleton, generated at build time) and reads its ring
// buffer. Decoding lives in bind_event.cpp.
#include "collectors/bindwatch/source.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>

#include "collectors/bindwatch/bindwatch.skel.h"
#include "collectors/common/clock.h"
#include "collectors/common/text.h"
#include "collectors/listeners/source_linux.h"

namespace portwarden {
namespace {

// libbpf's messages while loading (a few KB at most: the verifier log of a failed
// program), so an error can say what the kernel refused.
std::string g_libbpf_log;

int CaptureLibbpfLog(libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  g_libbpf_log += line;
  return 0;
}

// libbpf finds tracepoint IDs in tracefs; a system without systemd may not have mounted it.
void EnsureTracefs() {
  if (access("/sys/kernel/tracing/events", F_OK) == 0 ||
      access("/sys/kernel/debug/tracing/events", F_OK) == 0) {
    return;
  }
  mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
}

// bindwatch.bpf.c attached to syscalls:sys_{enter,exit}_{bind,listen} and
// sock:inet_sock_set_state. Needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), kernel BTF
// and tracefs. The programs live only as long as this process holds their descriptors:
// nothing is left in the kernel after it exits, even by SIGKILL.
class EbpfSource : public BindEventSource {
 public:
  std::vector<BindEvent> Poll(int timeout_ms) override;
  uint64_t Dropped() const override;
  std::string Name() const override { return "ebpf"; }

  bindwatch_bpf* skel = nullptr;
  ring_buffer* ring = nullptr;
  int proc_dir = -1;
  uint64_t undecodable = 0;
  std::vector<BindEvent> batch;  // filled by OnRecord during one poll
  ProcessReader processes;
  // Callers read in the last second, by PID: a process failing in a loop (a server retrying,
  // 1,000 binds/s) costs one read of /proc per second, not one per bind.
  struct Read {
    double time;
    Process process;
  };
  std::unordered_map<uint32_t, Read> recent;

  ~EbpfSource() override {
    if (ring) ring_buffer__free(ring);
    if (skel) bindwatch_bpf__destroy(skel);
    if (proc_dir >= 0) close(proc_dir);
  }

  static int OnRecord(void* ctx, void* data, size_t size) {
    auto* self = static_cast<EbpfSource*>(ctx);
    auto event = DecodeBindRecord({static_cast<const uint8_t*>(data), size});
    if (event) {
      self->batch.push_back(std::move(*event));
    } else {
      ++self->undecodable;
    }
    return 0;
  }
};

}  // namespace

Expected<std::unique_ptr<BindEventSource>> OpenBindEventSource() {
  g_libbpf_log.clear();
  libbpf_set_print(CaptureLibbpfLog);
  EnsureTracefs();
  auto state = std::make_unique<EbpfSource>();
  state->skel = bindwatch_bpf__open_and_load();
  const auto failed = [](const char* what) {
    const int err = errno;
    // The verifier's reason is at the end of its log.
    std::string log(Trim(g_libbpf_log.substr(g_libbpf_log.size() - std::min<size_t>(g_libbpf_log.size(), 600))));
    return Error{std::string(what) + ": " + std::strerror(err) + (log.empty() ? "" : " (" + log + ")")};
  };
  if (!state->skel) return failed("loading the eBPF program failed");
  if (bindwatch_bpf__attach(state->skel) != 0) return failed("attaching the eBPF program failed");
  state->ring = ring_buffer__new(bpf_map__fd(state->skel->maps.records), EbpfSource::OnRecord,
                                 state.get(), nullptr);
  if (!state->ring) return failed("opening the eBPF ring buffer failed");
  state->proc_dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::unique_ptr<BindEventSource> watch = std::move(state);

  // The proof: a bind of our own that fails with EADDRINUSE must arrive with our PID.
  int held = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int second = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bool probed = held >= 0 && second >= 0 &&
                bind(held, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                listen(held, 1) == 0 &&
                getsockname(held, reinterpret_cast<sockaddr*>(&a), &len) == 0 &&
                bind(second, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0;
  const uint16_t port = ntohs(a.sin_port);
  if (held >= 0) close(held);
  if (second >= 0) close(second);
  if (!probed) return Error{"the eBPF self-test could not fail a bind on 127.0.0.1"};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (std::chrono::steady_clock::now() < deadline) {
    for (const BindEvent& e : watch->Poll(100)) {
      if (e.kind != BindEvent::Kind::kBindFailed || e.port != port) continue;
      if (e.caller.pid != static_cast<uint32_t>(getpid())) {
        return Error{"eBPF events carry PIDs of another PID namespace (got " +
                     std::to_string(e.caller.pid) + " for pid " + std::to_string(getpid()) + ")"};
      }
      return watch;
    }
  }
  return Error{"the eBPF program is attached but its self-test bind failure did not arrive "
               "within 1 s"};
}

std::vector<BindEvent> EbpfSource::Poll(int timeout_ms) {
  batch.clear();
  ring_buffer__poll(ring, timeout_ms);
  const double now = UnixNow();
  if (recent.size() > 4096) recent.clear();
  for (BindEvent& e : batch) {
    e.time = now;
    auto it = recent.find(e.caller.pid);
    if (it != recent.end() && now - it->second.time < 1 && it->second.process.name == e.caller.name) {
      e.caller = it->second.process;
      continue;
    }
    if (proc_dir < 0) continue;
    // Read at once: a server that fails to bind often exits right after.
    if (auto p = processes.Read(proc_dir, e.caller.pid)) {
      e.caller = std::move(*p);
      recent.insert_or_assign(e.caller.pid, Read{now, e.caller});
    }
  }
  return std::move(batch);
}

uint64_t EbpfSource::Dropped() const {
  uint64_t total = undecodable;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return total;
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.dropped), &zero, per_cpu.data()) == 0) {
    for (uint64_t n : per_cpu) total += n;
  }
  return total;
}

}  // namespace portwarden
