// portwarden-bench: builds a busy host on loopback (bench/fixture.h) at one or more scales
// and measures, in the same run, portwarden's collection cycles (cold, steady, one new
// listener, fork + exit; with proc events and without), its daemon (/metrics latency under
// concurrent scrapers, RSS, CPU, take-over detection), and `ss -ltnp`, `netstat -ltnp`,
// `lsof`. Every cycle's owners are compared with `ss -ltnup`. Prints one Markdown table.
// Needs root (the fixture raises fd limits; the proc connector needs CAP_NET_ADMIN).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench/fixture.h"
#include "collectors/listeners/attribution.h"
#include "collectors/listeners/source_linux.h"

namespace portwarden::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Scale {
  std::string name;
  FixtureOptions fixture;
  int tool_runs;  // ss/netstat runs (lsof: at most 2; it takes ~1 min at the large scale)
};

// P processes (masters with one worker each), L listeners, U UDP sockets, E established
// pairs, F other fds per process: large is the host of issue 7 (~509k fds).
const std::vector<Scale> kScales = {
    {"small", {50, 1, 500, 125, 2000, 100, false}, 5},
    {"medium", {200, 1, 2000, 500, 8000, 330, false}, 3},
    {"large", {500, 1, 5000, 1250, 20000, 830, false}, 1},
};

struct Args {
  std::vector<std::string> scales = {"small", "medium", "large"};
  double interval_s = 5;
  int steady_cycles = 5;
  int new_listener_cycles = 3;
  int scrapers = 10;
  int scrape_requests = 30;
  double cpu_window_s = 30;
  double soak_s = 0;
  bool busy = false;
  int bindwatch_trials = 0;  // --bindwatch N: the bind watch benchmark instead of the scales
  int namespaces = 50;
  int namespace_listeners = 20;
  std::string portwarden;
};

[[noreturn]] void Usage(const char* error) {
  std::fprintf(stderr,
               "portwarden-bench: %s\n"
               "usage: portwarden-bench --portwarden PATH [--scales small,medium,large]\n"
               "  [--interval SECONDS] [--steady-cycles N] [--new-listener-cycles N]\n"
               "  [--scrapers N] [--scrape-requests N] [--cpu-window SECONDS]\n"
               "  [--soak SECONDS] [--busy] [--namespaces N] [--namespace-listeners L]\n"
               "  [--bindwatch TRIALS]\n"
               "--soak runs the daemon that long at the last scale given, with churn.\n"
               "--namespaces: network namespaces added to every scale (default 50), each\n"
               "  with --namespace-listeners TCP listeners (default 20).\n"
               "--bindwatch: the bind watch benchmark (takeover latency, CPU) instead of the scales.\n",
               error);
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--scales") {
      a.scales.clear();
      std::stringstream ss(value());
      for (std::string s; std::getline(ss, s, ',');) a.scales.push_back(s);
    } else if (arg == "--interval") {
      a.interval_s = std::stod(value());
    } else if (arg == "--steady-cycles") {
      a.steady_cycles = std::stoi(value());
    } else if (arg == "--new-listener-cycles") {
      a.new_listener_cycles = std::stoi(value());
    } else if (arg == "--scrapers") {
      a.scrapers = std::stoi(value());
    } else if (arg == "--scrape-requests") {
      a.scrape_requests = std::stoi(value());
    } else if (arg == "--cpu-window") {
      a.cpu_window_s = std::stod(value());
    } else if (arg == "--soak") {
      a.soak_s = std::stod(value());
    } else if (arg == "--namespaces") {
      a.namespaces = std::stoi(value());
    } else if (arg == "--namespace-listeners") {
      a.namespace_listeners = std::stoi(value());
    } else if (arg == "--busy") {
      a.busy = true;
    } else if (arg == "--bindwatch") {
      a.bindwatch_trials = std::stoi(value());
    } else if (arg == "--portwarden") {
      a.portwarden = value();
    } else {
      Usage(("unknown argument " + arg).c_str());
    }
  }
  if (a.portwarden.empty()) Usage("--portwarden is required");
  for (const auto& s : a.scales) {
    if (std::none_of(kScales.begin(), kScales.end(), [&](const Scale& k) { return k.name == s; })) {
      Usage(("unknown scale " + s).c_str());
    }
  }
  return a;
}

void Note(const std::string& text) { std::fprintf(stderr, "bench: %s\n", text.c_str()); }

void SleepSeconds(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

// Calls done() every `step` until it returns true or `deadline` passes; whether it did.
template <typename Done>
bool PollUntil(std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds step,
               Done done) {
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return false;
}

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// ---- external tools -------------------------------------------------------------------

struct ToolRun {
  double cpu_ms = 0;  // user + system of the child
  double wall_ms = 0;
};

ToolRun RunTool(const std::vector<std::string>& argv, std::string* output = nullptr) {
  int pipefd[2] = {-1, -1};
  if (output && pipe2(pipefd, O_CLOEXEC) != 0) return {};
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(output ? pipefd[1] : null, 1);
    dup2(null, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  if (output) {
    close(pipefd[1]);
    output->clear();
    char buf[65536];
    for (ssize_t n; (n = read(pipefd[0], buf, sizeof buf)) > 0;) output->append(buf, size_t(n));
    close(pipefd[0]);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  ToolRun r;
  r.wall_ms = Ms(Clock::now() - start);
  r.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
    Note("command failed: " + argv[0]);
    return {};
  }
  return r;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

double MedianToolCpu(const std::vector<std::string>& argv, int runs, double* wall) {
  std::vector<double> cpu, walls;
  for (int i = 0; i < runs; ++i) {
    ToolRun r = RunTool(argv);
    cpu.push_back(r.cpu_ms);
    walls.push_back(r.wall_ms);
  }
  if (wall) *wall = Median(walls);
  return Median(cpu);
}

// ---- truth: ss -ltnup -------------------------------------------------------------------

// netns inode, proto, address, port
using SocketId = std::tuple<uint64_t, std::string, std::string, uint16_t>;
using Owners = std::map<SocketId, std::set<uint32_t>>;

// argv run in namespace netns_pid (0: the bench's own) with nsenter, as an admin would.
std::vector<std::string> InNetns(pid_t netns_pid, std::vector<std::string> argv) {
  if (netns_pid == 0) return argv;
  argv.insert(argv.begin(), {"nsenter", "--net=/proc/" + std::to_string(netns_pid) + "/ns/net"});
  return argv;
}

// The owners ss reports in one namespace: netns_pid is a process in it (0: the bench's).
void SsOwners(const std::set<uint16_t>& ports, pid_t netns_pid, uint64_t netns, Owners& owners) {
  std::string out;
  RunTool(InNetns(netns_pid, {"ss", "-Hltnup"}), &out);
  static const std::regex pid_re("pid=(\\d+)");
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string proto, state, rq, sq, local;
    fields >> proto >> state >> rq >> sq >> local;
    size_t colon = local.rfind(':');
    if (colon == std::string::npos) continue;
    auto port = static_cast<uint16_t>(std::atoi(local.c_str() + colon + 1));
    if (!ports.contains(port)) continue;
    std::string address = local.substr(0, colon);
    if (address.size() > 2 && address.front() == '[')
      address = address.substr(1, address.size() - 2);
    auto& pids = owners[{netns, proto, address, port}];
    for (std::sregex_iterator it(line.begin(), line.end(), pid_re), end; it != end; ++it) {
      pids.insert(static_cast<uint32_t>(std::stoul((*it)[1])));
    }
  }
}

// Our owners in the namespaces given (their inodes).
Owners OurOwners(const std::vector<OwnedSocket>& sample, const std::set<uint16_t>& ports,
                 const std::set<uint64_t>& netns) {
  Owners owners;
  for (const OwnedSocket& s : sample) {
    if (!ports.contains(s.socket.port) || !netns.contains(s.socket.netns)) continue;
    auto& pids = owners[{s.socket.netns, std::string(ToString(s.socket.proto)),
                         s.socket.address, s.socket.port}];
    for (const auto& p : s.holders) pids.insert(p->pid);
  }
  return owners;
}

// Differences between two owner maps, at most a few, for the log.
std::string Diff(const Owners& ours, const Owners& truth) {
  std::ostringstream d;
  int shown = 0;
  auto show = [&](const SocketId& id, const std::set<uint32_t>* a, const std::set<uint32_t>* b) {
    if (shown++ >= 5) return;
    auto list = [](const std::set<uint32_t>* s) {
      if (!s) return std::string("absent");
      std::string t;
      for (uint32_t p : *s) t += std::to_string(p) + " ";
      return t.empty() ? std::string("none") : t;
    };
    d << "netns " << std::get<0>(id) << " " << std::get<1>(id) << " " << std::get<2>(id) << ":"
      << std::get<3>(id) << " portwarden=["
      << list(a) << "] ss=[" << list(b) << "]; ";
  };
  for (const auto& [id, pids] : ours) {
    auto it = truth.find(id);
    if (it == truth.end() || it->second != pids)
      show(id, &pids, it == truth.end() ? nullptr : &it->second);
  }
  for (const auto& [id, pids] : truth) {
    if (!ours.contains(id)) show(id, nullptr, &pids);
  }
  return d.str();
}

// ---- in-process cycles ----------------------------------------------------------------

struct Cycles {
  std::vector<double> cpu_ms;
  int checks = 0;
  int exact = 0;
  void Add(double ms) { cpu_ms.push_back(ms); }
  double Mean() const {
    double sum = 0;
    for (double v : cpu_ms) sum += v;
    return cpu_ms.empty() ? 0 : sum / static_cast<double>(cpu_ms.size());
  }
};

class CycleRunner {
 public:
  CycleRunner(const Fixture& fixture, bool events, Cycles* checks)
      : fixture_(fixture), checks_(checks) {
    LinuxSourceOptions options;
    options.use_proc_events = events;
    source_ = MakeLinuxListenerSource(options);
  }

  // One collection cycle as the daemon runs it (sample + grouping, skipped when the sample
  // is unchanged); returns its CPU time.
  double Run(const char* label, bool compare) {
    double cpu0 = ThreadCpuMs();
    auto start = Clock::now();
    auto sample = source_->Sample();
    auto set = sample ? builder_.Build(*sample, {}) : std::shared_ptr<const ListenerSet>();
    double cpu = ThreadCpuMs() - cpu0;
    double wall = Ms(Clock::now() - start);
    if (!sample) {
      Note(std::string(label) + ": sample failed: " + sample.error().message);
      return cpu;
    }
    const LinuxSourceStats& st = source_->LastStats();
    char line[512];
    std::snprintf(line, sizeof line,
                  "%-26s cpu %8.2f ms wall %8.2f ms  mode=%s events=%zu read=%zu links=%zu "
                  "quiet=%zu searched=%zu pending=%zu listeners=%zu netns=%zu (failed %zu)",
                  label, cpu, wall, st.mode.c_str(), st.events, st.processes_read, st.fd_links_read,
                  st.quiet_checks, st.searched, st.pending, set->listeners.size() + set->dropped,
                  st.namespaces, st.namespaces_failed);
    Note(line);
    if (compare) Compare(**sample, label);
    return cpu;
  }

  const LinuxListenerSource& source() const { return *source_; }

 private:
  // Compares the sockets of the fixture. Other processes on the host may bind the same
  // port numbers while the two reads run; a socket counts as the fixture's if either side
  // names a fixture process as a holder, which keeps every error about a fixture socket.
  void Compare(const std::vector<OwnedSocket>& sample, const char* label) {
    auto ports_list = fixture_.Ports();
    std::set<uint16_t> ports(ports_list.begin(), ports_list.end());
    auto pid_list = fixture_.Pids();
    std::set<uint32_t> pids(pid_list.begin(), pid_list.end());
    // The bench's namespace and the fixture's: ss runs in each.
    std::set<uint64_t> netns = {NetnsInode("/proc/self/ns/net")};
    Owners truth;
    SsOwners(ports, 0, *netns.begin(), truth);
    for (const Fixture::Master& n : fixture_.namespaces()) {
      netns.insert(n.netns);
      SsOwners(ports, n.pid, n.netns, truth);
    }
    Owners ours = OurOwners(sample, ports, netns);
    std::set<SocketId> fixture_sockets;
    for (const Owners* side : {&ours, &truth}) {
      for (const auto& [id, holders] : *side) {
        for (uint32_t p : holders) {
          if (pids.contains(p)) fixture_sockets.insert(id);
        }
      }
    }
    for (Owners* side : {&ours, &truth}) {
      std::erase_if(*side, [&](const auto& kv) { return !fixture_sockets.contains(kv.first); });
    }
    ++checks_->checks;
    if (ours == truth) {
      ++checks_->exact;
    } else {
      Note(std::string(label) + ": owners differ from ss -ltnup: " + Diff(ours, truth));
    }
  }

  const Fixture& fixture_;
  Cycles* checks_;
  std::unique_ptr<LinuxListenerSource> source_;
  ListenerBuilder builder_;
};

struct ModeResult {
  double cold_ms = 0;
  Cycles steady, new_listener, churn, checks;
  std::string events_reason;
};

ModeResult MeasureCycles(Fixture& fixture, const Args& args, bool events) {
  ModeResult r;
  CycleRunner runner(fixture, events, &r.checks);
  const char* mode = events ? "events" : "fallback";
  r.cold_ms = runner.Run((std::string(mode) + " cold").c_str(), true);
  r.events_reason = runner.source().EventsUnavailableReason();
  for (int i = 0; i < args.steady_cycles; ++i) {
    SleepSeconds(args.interval_s);
    r.steady.Add(runner.Run((std::string(mode) + " steady").c_str(), i + 1 == args.steady_cycles));
  }
  size_t masters = fixture.masters().size();
  for (int i = 0; i < args.new_listener_cycles; ++i) {
    SleepSeconds(args.interval_s);
    size_t m = (static_cast<size_t>(i) * 7 + 3) % masters;
    if (fixture.Listen(m) == 0) Note("fixture: Listen failed");
    r.new_listener.Add(runner.Run((std::string(mode) + " new listener").c_str(), true));
  }
  // A master forks a worker (it inherits every listener) and another worker exits.
  SleepSeconds(args.interval_s);
  fixture.Fork(1 % masters);
  fixture.ExitWorker(2 % masters);
  r.churn.Add(runner.Run((std::string(mode) + " fork + exit").c_str(), true));
  return r;
}

// ---- the daemon ------------------------------------------------------------------------

struct Http {
  int status = 0;
  std::string body;   // as sent: compressed when gzip
  bool gzip = false;  // Content-Encoding: gzip
};

// `headers`: more request header lines, each ending in \r\n.
Http Get(int port, const std::string& path, const std::string& headers = "") {
  Http r;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return r;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string raw;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) raw.append(buf, size_t(n));
  close(fd);
  size_t split = raw.find("\r\n\r\n");
  if (split == std::string::npos || std::sscanf(raw.c_str(), "HTTP/%*s %d", &r.status) != 1)
    return r;
  r.gzip = raw.substr(0, split + 2).find("\r\nContent-Encoding: gzip\r\n") != std::string::npos;
  r.body = raw.substr(split + 4);
  return r;
}

class Daemon {
 public:
  // Starts the daemon with its log in a temporary file: a pipe nobody drains would block
  // the daemon's logging, and with it its sampling loop.
  // `extra`: more flags; `wrapper`: a command (and its arguments) that runs the daemon.
  Daemon(const std::string& binary, const std::string& interval,
         const std::vector<std::string>& extra = {}, const std::vector<std::string>& wrapper = {}) {
    char path[] = "/tmp/portwarden-bench-log-XXXXXX";
    int log = mkstemp(path);
    if (log < 0) return;
    log_path_ = path;
    pid_ = fork();
    if (pid_ == 0) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, 1);
      dup2(log, 2);
      std::vector<std::string> args = wrapper;
      args.insert(args.end(), {binary, "--web.listen-address=127.0.0.1:0",
                               "--collect.interval=" + interval});
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(log);
    auto deadline = Clock::now() + std::chrono::seconds(60);
    static const std::regex port_re("127\\.0\\.0\\.1:(\\d+)");
    std::string text;
    while (Clock::now() < deadline && port_ == 0) {
      std::ifstream in(log_path_);
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      std::smatch m;
      if (std::regex_search(text, m, port_re)) port_ = std::stoi(m[1]);
      if (port_ == 0) SleepSeconds(0.02);
    }
    if (port_ == 0) Note("daemon: no listen address in its log: " + text);
    while (port_ != 0 && Clock::now() < deadline && Get(port_, "/-/ready").status != 200) {
      SleepSeconds(0.05);
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (!log_path_.empty()) unlink(log_path_.c_str());
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Resident set in MiB, now ("VmRSS") or at its peak ("VmHWM").
  double Memory(const char* field) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + std::strlen(field) + 1) / 1024;
    }
    return 0;
  }
  // utime + stime in seconds.
  double CpuSeconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string f;
    double ticks = 0;
    for (int n = 3; n <= 15 && fields >> f; ++n) {
      if (n >= 14) ticks += std::stod(f);
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
  }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  int port_ = 0;
};

struct DaemonResult {
  double p50_ms = 0, p99_ms = 0, rss_mb = 0, hwm_mb = 0, cpu_pct = 0, takeover_s = -1;
  size_t body_kb = 0;
  double soak_rss_start = 0, soak_rss_end = 0, soak_rss_max = 0;
  bool ran = false;
};

// Scrapes as Prometheus does (asking for gzip); `*body` is the size on the wire.
std::vector<double> ScrapeBurst(int port, int scrapers, int requests, size_t* body) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(scrapers));
  std::vector<std::thread> threads;
  for (int t = 0; t < scrapers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < requests; ++i) {
        auto start = Clock::now();
        Http r = Get(port, "/metrics", "Accept-Encoding: gzip\r\n");
        lat[size_t(t)].push_back(Ms(Clock::now() - start));
        if (t == 0 && i == 0) {
          *body = r.body.size();
          if (!r.gzip) Note("scrape: /metrics was not gzip-encoded");
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  return all;
}

DaemonResult MeasureDaemon(Fixture& fixture, const Args& args, bool soak) {
  DaemonResult r;
  Daemon d(args.portwarden, "1s");
  if (d.port() == 0) return r;
  r.ran = true;
  SleepSeconds(3);  // a few cycles past the cold one
  size_t body = 0;
  std::vector<double> lat = ScrapeBurst(d.port(), args.scrapers, args.scrape_requests, &body);
  r.p50_ms = Percentile(lat, 0.50);
  r.p99_ms = Percentile(lat, 0.99);
  r.body_kb = body / 1024;
  r.rss_mb = d.Memory("VmRSS:");
  r.hwm_mb = d.Memory("VmHWM:");

  double cpu0 = d.CpuSeconds();
  auto t0 = Clock::now();
  SleepSeconds(args.cpu_window_s);
  r.cpu_pct =
      100 * (d.CpuSeconds() - cpu0) / std::chrono::duration<double>(Clock::now() - t0).count();

  // Take-over: master 0 opens a port, closes it, master 1 binds it; time until /metrics
  // names master 1 as its owner.
  size_t a = 0, b = 1 % fixture.masters().size();
  uint16_t port = fixture.Listen(a);
  std::string want_a = "port=\"" + std::to_string(port) + "\",pid=\"" +
                       std::to_string(fixture.masters()[a].pid) + "\"";
  std::string want_b = "port=\"" + std::to_string(port) + "\",pid=\"" +
                       std::to_string(fixture.masters()[b].pid) + "\"";
  auto until = [&](const std::string& want, double limit_s) {
    auto start = Clock::now();
    while (Ms(Clock::now() - start) < limit_s * 1000) {
      if (Get(d.port(), "/metrics").body.find(want) != std::string::npos) {
        return Ms(Clock::now() - start) / 1000;
      }
      SleepSeconds(0.05);
    }
    return -1.0;
  };
  if (port != 0 && until(want_a, 10) >= 0 && fixture.Close(a, port)) {
    if (fixture.Take(b, port)) r.takeover_s = until(want_b, 10);
  }

  if (soak && args.soak_s > 0) {
    Note("soak: " + std::to_string(int(args.soak_s)) + " s with churn and scrapes");
    r.soak_rss_start = d.Memory("VmRSS:");
    r.soak_rss_max = r.soak_rss_start;
    auto start = Clock::now();
    auto seconds = [&] { return Ms(Clock::now() - start) / 1000; };
    double last_scrape = -1e9, last_rss = -1e9;
    std::vector<std::pair<size_t, uint16_t>> opened;
    // Every second a listener opens and an old one closes; every 5 s a worker forks and
    // another exits; every 15 s the scrapers all scrape once.
    for (int tick = 0; seconds() < args.soak_s; ++tick) {
      size_t m = static_cast<size_t>(tick) % fixture.masters().size();
      if (uint16_t p = fixture.Listen(m)) opened.emplace_back(m, p);
      if (opened.size() > 20) {
        fixture.Close(opened.front().first, opened.front().second);
        opened.erase(opened.begin());
      }
      if (tick % 5 == 0) {
        fixture.Fork(m);
        fixture.ExitWorker((m + 1) % fixture.masters().size());
      }
      if (seconds() - last_scrape >= 15) {
        ScrapeBurst(d.port(), args.scrapers, 1, &body);
        last_scrape = seconds();
      }
      if (seconds() - last_rss >= 30) {
        double rss = d.Memory("VmRSS:");
        r.soak_rss_max = std::max(r.soak_rss_max, rss);
        Note("soak: " + std::to_string(int(seconds())) + " s, RSS " + Fmt("%.1f MiB", rss));
        last_rss = seconds();
      }
      SleepSeconds(1);
    }
    r.soak_rss_end = d.Memory("VmRSS:");
  }
  return r;
}

// ---- one scale ---------------------------------------------------------------------------

struct ScaleResult {
  std::string name;
  size_t processes = 0, tcp = 0, udp = 0;
  uint64_t fds = 0;
  size_t namespaces = 0, namespace_tcp = 0;
  double ss_ltn = 0, ss_ltnp = 0, ss_ltnp_wall = 0, netstat = 0, lsof = 0;
  // ss -ltnp in every namespace (the host's, the median above, plus one run in each of the
  // fixture's): what an admin runs to see them all; the reference of the percentages.
  double ss_all = 0, ss_all_wall = 0;
  ModeResult events, fallback;
  DaemonResult daemon;
};

ScaleResult RunScale(const Scale& scale, const Args& args, bool soak) {
  ScaleResult r;
  r.name = scale.name;
  FixtureOptions fo = scale.fixture;
  fo.busy = args.busy;
  fo.namespaces = args.namespaces;
  fo.namespace_listeners = args.namespace_listeners;
  Note("scale " + scale.name + ": building the fixture");
  auto t0 = Clock::now();
  Fixture fixture(fo);
  r.processes = fixture.Pids().size();
  for (const auto& m : fixture.masters()) {
    r.tcp += m.tcp_ports.size();
    r.udp += m.udp_ports.size();
  }
  r.namespaces = fixture.namespaces().size();
  for (const auto& n : fixture.namespaces()) r.namespace_tcp += n.tcp_ports.size();
  r.fds = CountHostFds();
  Note("fixture ready in " + std::to_string(int(Ms(Clock::now() - t0))) + " ms: " +
       std::to_string(r.processes) + " processes, " + std::to_string(r.fds) + " fds on the host");

  int runs = scale.tool_runs;
  r.ss_ltn = MedianToolCpu({"ss", "-ltn"}, runs, nullptr);
  r.ss_ltnp = MedianToolCpu({"ss", "-ltnp"}, runs, &r.ss_ltnp_wall);
  Note("ss -ltnp: " + std::to_string(r.ss_ltnp) + " ms CPU");
  r.ss_all = r.ss_ltnp;
  r.ss_all_wall = r.ss_ltnp_wall;
  for (const auto& n : fixture.namespaces()) {
    ToolRun run = RunTool(InNetns(n.pid, {"ss", "-ltnp"}));
    r.ss_all += run.cpu_ms;
    r.ss_all_wall += run.wall_ms;
  }
  Note("ss -ltnp in " + std::to_string(r.namespaces + 1) + " namespaces: " +
       std::to_string(r.ss_all) + " ms CPU");
  r.netstat = MedianToolCpu({"netstat", "-ltnp"}, runs, nullptr);
  Note("netstat -ltnp: " + std::to_string(r.netstat) + " ms CPU");
  r.lsof = MedianToolCpu({"lsof", "-nP", "-iTCP", "-sTCP:LISTEN"}, std::min(runs, 2), nullptr);
  Note("lsof: " + std::to_string(r.lsof) + " ms CPU");

  r.events = MeasureCycles(fixture, args, true);
  r.fallback = MeasureCycles(fixture, args, false);
  r.daemon = MeasureDaemon(fixture, args, soak);
  fixture.Stop();
  return r;
}

// ---- the bind watch (--bindwatch) -------------------------------------------------------
//
// Takeover latency: pw-a holds 127.0.0.1:P, which an expectation gives to it; pw-a exits and
// pw-b listens there. Measured from just before pw-b is forked to the wrong_owner finding on
// /metrics (polled every 5 ms) and to the push arriving at the Alertmanager receiver below.
// Each trial starts at a random phase of the sampling interval. Then the daemon's CPU idle
// and under 1,000 failed binds per second, and what one failed bind costs its caller.

// A listening child named `name` (comm) on 127.0.0.1:port, until killed.
pid_t NamedListener(const char* name, int port) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NAME, name);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0) _exit(1);
    for (;;) pause();
  }
  return pid;
}

void KillChild(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// A bound, listening socket on 127.0.0.1:0; returns its fd and sets `port`.
int LoopbackListener(int& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(fd, 64);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// Alertmanager's POST /api/v2/alerts, answered 200: when each body first arrived, by the
// marker it contains.
class AlertReceiver {
 public:
  explicit AlertReceiver(std::vector<std::string> markers) : markers_(std::move(markers)) {
    fd_ = LoopbackListener(port_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~AlertReceiver() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  std::optional<Clock::time_point> Arrival(const std::string& marker) {
    std::lock_guard lock(mu_);
    auto it = arrivals_.find(marker);
    return it == arrivals_.end() ? std::nullopt : std::optional(it->second);
  }

 private:
  void Serve() {
    for (;;) {
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string req;
      char buf[65536];
      size_t want = std::string::npos;
      for (ssize_t n; req.size() < want && (n = read(c, buf, sizeof buf)) > 0;) {
        req.append(buf, size_t(n));
        size_t head = req.find("\r\n\r\n");
        size_t cl = req.find("Content-Length: ");
        if (head != std::string::npos && cl != std::string::npos) {
          want = head + 4 + std::stoul(req.substr(cl + 16));
        }
      }
      const auto now = Clock::now();
      {
        std::lock_guard lock(mu_);
        for (const auto& m : markers_) {
          if (req.find(m) != std::string::npos) arrivals_.try_emplace(m, now);
        }
      }
      const char ok[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
      (void)!write(c, ok, sizeof ok - 1);
      close(c);
    }
  }
  std::vector<std::string> markers_;
  int fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, Clock::time_point> arrivals_;
  std::thread thread_;
};

struct BindWatchResult {
  std::string source;
  std::vector<double> metrics_ms, push_ms;
  double idle_cpu = 0;  // daemon ms per s
  double load_cpu = 0;  // daemon ms per s at the bind rate
  double bind_us = 0;   // CPU of one failed bind in the caller
  double rate = 0;      // failed binds per second achieved
};

// Failed binds on 127.0.0.1:`port` (held) at `rate` per second for `seconds`, from this
// thread; returns the rate achieved and sets the CPU microseconds per bind.
double FailBinds(int port, double rate, double seconds, double& us_per_bind) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto start = Clock::now();
  const auto step = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / rate));
  long n = 0;
  double in_bind_ms = 0;
  for (auto next = start; Clock::now() - start < std::chrono::duration<double>(seconds); next += step) {
    std::this_thread::sleep_until(next);
    const double before = ThreadCpuMs();
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    in_bind_ms += ThreadCpuMs() - before;
    ++n;
  }
  close(fd);
  us_per_bind = n ? in_bind_ms * 1000 / static_cast<double>(n) : 0;
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

BindWatchResult RunBindWatch(const Args& args, bool watch, int trials) {
  BindWatchResult r;
  std::vector<int> ports;
  std::vector<pid_t> holders;
  std::vector<std::string> markers;
  std::string expect = "expect:\n";
  for (int i = 0; i < trials; ++i) {
    int port = 0;
    close(LoopbackListener(port));
    ports.push_back(port);
    markers.push_back("takeover-" + std::to_string(port));
    expect += "  - {name: " + markers.back() + ", listen: '127.0.0.1:" + std::to_string(port) +
              "/tcp', owner: {process: pw-a}}\n";
    holders.push_back(NamedListener("pw-a", port));
  }
  AlertReceiver receiver(markers);
  char path[] = "/tmp/portwarden-bench-config-XXXXXX.yml";
  int cfd = mkstemps(path, 4);
  const std::string config = expect + "alerting:\n  alertmanagers: [http://127.0.0.1:" +
                             std::to_string(receiver.port()) + "]\n";
  (void)!write(cfd, config.data(), config.size());
  close(cfd);
  const std::vector<std::string> no_bpf = {"setpriv", "--bounding-set=-bpf,-perfmon,-sys_admin",
                                           "--inh-caps=-bpf,-perfmon,-sys_admin", "--"};
  Daemon d(args.portwarden, Fmt("%gs", args.interval_s), {std::string("--config.file=") + path},
           watch ? std::vector<std::string>{} : no_bpf);
  r.source = "?";
  PollUntil(Clock::now() + std::chrono::seconds(60), std::chrono::milliseconds(50), [&] {
    const std::string body = Get(d.port(), "/metrics").body;
    for (const char* s : {"ebpf", "none"}) {
      if (body.find("portwarden_bind_event_source_info{source=\"" + std::string(s) + "\"} 1") !=
          std::string::npos) {
        r.source = s;
      }
    }
    return r.source != "?";
  });
  SleepSeconds(2 * args.interval_s);  // the first cycles are behind us
  std::srand(static_cast<unsigned>(ports.front()));
  for (int i = 0; i < trials; ++i) {
    SleepSeconds(args.interval_s * std::rand() / RAND_MAX);
    KillChild(holders[i]);
    const auto t0 = Clock::now();
    holders[i] = NamedListener("pw-b", ports[i]);
    const std::string series = "portwarden_finding{kind=\"wrong_owner\",rule=\"" + markers[i] + "\"";
    const auto until = t0 + std::chrono::seconds(30);
    PollUntil(until, std::chrono::milliseconds(5),
              [&] { return Get(d.port(), "/metrics").body.find(series) != std::string::npos; });
    r.metrics_ms.push_back(Ms(Clock::now() - t0));
    std::optional<Clock::time_point> pushed;
    PollUntil(until, std::chrono::milliseconds(5),
              [&] { return (pushed = receiver.Arrival(markers[i])).has_value(); });
    r.push_ms.push_back(pushed ? Ms(*pushed - t0) : 30000);
    Note(Fmt("takeover %.0f", i) + Fmt(": /metrics %.0f ms", r.metrics_ms.back()) +
         Fmt(", push %.0f ms", r.push_ms.back()) + " (" + r.source + ")");
  }
  double c0 = d.CpuSeconds();
  SleepSeconds(args.cpu_window_s);
  r.idle_cpu = (d.CpuSeconds() - c0) * 1000 / args.cpu_window_s;
  c0 = d.CpuSeconds();
  const auto l0 = Clock::now();
  r.rate = FailBinds(ports.front(), 1000, args.cpu_window_s, r.bind_us);
  r.load_cpu = (d.CpuSeconds() - c0) * 1000 / std::chrono::duration<double>(Clock::now() - l0).count();
  for (pid_t p : holders) KillChild(p);
  unlink(path);
  return r;
}

void PrintBindWatchTable(const std::vector<BindWatchResult>& results, const Args& args) {
  std::printf("\n| %.0f s interval | eBPF bind watch | polling only (no CAP_BPF) |\n|---|---|---|\n",
              args.interval_s);
  auto row = [&](const char* name, auto cell) {
    std::printf("| %s |", name);
    for (const auto& r : results) std::printf(" %s |", cell(r).c_str());
    std::printf("\n");
  };
  row("bind event source (metric)", [](const BindWatchResult& r) { return r.source; });
  auto latency = [](const std::vector<double>& v) {
    return Fmt("%.0f ms", Median(v)) + " (max " + Fmt("%.0f ms", *std::max_element(v.begin(), v.end())) +
           Fmt(", n=%.0f)", static_cast<double>(v.size()));
  };
  row("takeover to /metrics, median", [&](const BindWatchResult& r) { return latency(r.metrics_ms); });
  row("takeover to Alertmanager push, median",
      [&](const BindWatchResult& r) { return latency(r.push_ms); });
  row("daemon CPU, idle", [](const BindWatchResult& r) { return Fmt("%.2f ms/s", r.idle_cpu); });
  row("daemon CPU at 1,000 failed binds/s",
      [](const BindWatchResult& r) { return Fmt("%.2f ms/s", r.load_cpu) + Fmt(" (%.0f binds/s)", r.rate); });
  row("CPU of one failed bind in the caller",
      [](const BindWatchResult& r) { return Fmt("%.1f us", r.bind_us); });
}

// ---- the table ---------------------------------------------------------------------------

// Kernel, CPU, cores, memory: the machine the numbers belong to.
void PrintMachine() {
  std::string model, mem, kernel;
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; model.empty() && std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) model = line.substr(line.find(':') + 2);
  }
  std::ifstream meminfo("/proc/meminfo");
  std::getline(meminfo, mem);
  std::ifstream release("/proc/sys/kernel/osrelease");
  std::getline(release, kernel);
  std::printf("\nMachine: %s, %ld cores, %s, Linux %s\n", model.c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), mem.substr(mem.find_first_of("0123456789")).c_str(),
              kernel.c_str());
}

std::string CpuCell(double ms, double ss) {
  if (ss <= 0) return Fmt("%.2f ms", ms);
  double pct = 100 * ms / ss;
  return Fmt(ms < 10 ? "%.2f ms" : "%.0f ms", ms) + " (" + Fmt(pct < 1 ? "%.2f%%" : "%.1f%%", pct) +
         ")";
}

void PrintTable(const std::vector<ScaleResult>& results, const Args& args) {
  std::vector<std::pair<std::string, std::vector<std::string>>> rows;
  auto row = [&](const std::string& name, auto cell) {
    std::vector<std::string> cells;
    for (const auto& r : results) cells.push_back(cell(r));
    rows.emplace_back(name, cells);
  };
  row("processes / fds on the host", [](const ScaleResult& r) {
    return std::to_string(r.processes) + " / " + std::to_string(r.fds);
  });
  row("TCP listeners / UDP sockets (host namespace)",
      [](const ScaleResult& r) { return std::to_string(r.tcp) + " / " + std::to_string(r.udp); });
  row("network namespaces / their TCP listeners", [](const ScaleResult& r) {
    return std::to_string(r.namespaces) + " / " + std::to_string(r.namespace_tcp);
  });
  row("`ss -ltn` CPU", [](const ScaleResult& r) { return CpuCell(r.ss_ltn, r.ss_ltnp); });
  row("`ss -ltnp` CPU, host namespace", [](const ScaleResult& r) {
    return Fmt("%.0f ms", r.ss_ltnp) + " (wall " + Fmt("%.0f ms", r.ss_ltnp_wall) + ")";
  });
  row("**`ss -ltnp` CPU, summed over every namespace (reference)**", [](const ScaleResult& r) {
    return Fmt("%.0f ms", r.ss_all) + " (wall " + Fmt("%.0f ms", r.ss_all_wall) + ")";
  });
  row("`netstat -ltnp` CPU", [](const ScaleResult& r) { return CpuCell(r.netstat, r.ss_ltnp); });
  row("`lsof -nP -iTCP -sTCP:LISTEN` CPU",
      [](const ScaleResult& r) { return CpuCell(r.lsof, r.ss_ltnp); });
  for (bool events : {true, false}) {
    std::string m = events ? "events" : "fallback";
    auto mode = [events](const ScaleResult& r) -> const ModeResult& {
      return events ? r.events : r.fallback;
    };
    row("cold cycle (" + m + ")",
        [&](const ScaleResult& r) { return CpuCell(mode(r).cold_ms, r.ss_all); });
    row("steady cycle, mean of " + std::to_string(args.steady_cycles) + " (" + m + ")",
        [&](const ScaleResult& r) { return CpuCell(mode(r).steady.Mean(), r.ss_all); });
    row("one new listener, mean of " + std::to_string(args.new_listener_cycles) + " (" + m + ")",
        [&](const ScaleResult& r) { return CpuCell(mode(r).new_listener.Mean(), r.ss_all); });
    row("fork + exit of workers (" + m + ")",
        [&](const ScaleResult& r) { return CpuCell(mode(r).churn.Mean(), r.ss_all); });
    row("steady cycle (" + m + ") vs `ss -ltnp` of the host namespace alone",
        [&](const ScaleResult& r) { return CpuCell(mode(r).steady.Mean(), r.ss_ltnp); });
    row("owners equal `ss -ltnup` in every namespace (" + m + ")", [&](const ScaleResult& r) {
      return std::to_string(mode(r).checks.exact) + "/" + std::to_string(mode(r).checks.checks);
    });
  }
  row("`/metrics` p50 / p99, " + std::to_string(args.scrapers) + " concurrent",
      [](const ScaleResult& r) {
        if (!r.daemon.ran) return std::string("n/a");
        return Fmt("%.1f", r.daemon.p50_ms) + " / " + Fmt("%.1f ms", r.daemon.p99_ms) + " (" +
               std::to_string(r.daemon.body_kb) + " KiB)";
      });
  row("daemon RSS / peak", [](const ScaleResult& r) {
    if (!r.daemon.ran) return std::string("n/a");
    return Fmt("%.1f", r.daemon.rss_mb) + " / " + Fmt("%.1f MiB", r.daemon.hwm_mb);
  });
  row("daemon CPU, interval 1 s, no scrapes", [](const ScaleResult& r) {
    return r.daemon.ran ? Fmt("%.2f%% of a core", r.daemon.cpu_pct) : std::string("n/a");
  });
  row("take-over visible on `/metrics`, interval 1 s", [](const ScaleResult& r) {
    return r.daemon.takeover_s >= 0 ? Fmt("%.2f s", r.daemon.takeover_s) : std::string("n/a");
  });
  if (args.soak_s > 0) {
    row("soak " + std::to_string(int(args.soak_s)) + " s: RSS start / max / end",
        [](const ScaleResult& r) {
          if (r.daemon.soak_rss_end == 0) return std::string("-");
          return Fmt("%.1f", r.daemon.soak_rss_start) + " / " + Fmt("%.1f", r.daemon.soak_rss_max) +
                 " / " + Fmt("%.1f MiB", r.daemon.soak_rss_end);
        });
  }

  std::printf("\n| measurement |");
  for (const auto& r : results) std::printf(" %s |", r.name.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < results.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const auto& [name, cells] : rows) {
    std::printf("| %s |", name.c_str());
    for (const auto& c : cells) std::printf(" %s |", c.c_str());
    std::printf("\n");
  }
  for (const auto& r : results) {
    if (!r.events.events_reason.empty()) {
      std::printf("\n%s: proc events unavailable: %s\n", r.name.c_str(),
                  r.events.events_reason.c_str());
    }
  }
}

}  // namespace
}  // namespace portwarden::bench

int main(int argc, char** argv) {
  using namespace portwarden::bench;
  Args args = ParseArgs(argc, argv);
  if (geteuid() != 0) Usage("needs root (fd limits, proc connector, reading every /proc/PID/fd)");
  if (args.bindwatch_trials > 0) {
    std::vector<BindWatchResult> results;
    for (bool watch : {true, false}) results.push_back(RunBindWatch(args, watch, args.bindwatch_trials));
    PrintMachine();
    PrintBindWatchTable(results, args);
    return 0;
  }
  std::vector<ScaleResult> results;
  for (const auto& name : args.scales) {
    const Scale& scale = *std::find_if(kScales.begin(), kScales.end(),
                                       [&](const Scale& s) { return s.name == name; });
    results.push_back(RunScale(scale, args, /*soak=*/&name == &args.scales.back()));
  }
  PrintMachine();
  PrintTable(results, args);
  return 0;
}
