// The bind watch end to end, as root: a real nginx (Debian's nginx-light) fails to bind a
// port another process holds; portwarden counts it, logs it and serves a bind_failed event
// naming both, a bind_failed finding, and the attempt inside the wrong_owner finding of the
// expectation nginx matches. Its kernel programs die with it, even by SIGKILL. Without the
// capabilities eBPF needs, the source is "none".
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/poll.h"
#include "tests/support/test_support.h"

namespace portwarden::testing {
namespace {

// nginx in the foreground, one process, everything below a temporary directory.
std::string NginxConfig(const std::string& dir, int port) {
  std::string conf = "daemon off;\nmaster_process off;\nerror_log stderr;\npid " + dir +
                     "/nginx.pid;\nevents {}\nhttp {\n  access_log off;\n";
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    conf += "  " + std::string(temp) + "_temp_path " + dir + "/" + temp + ";\n";
  }
  return conf + "  server { listen 127.0.0.1:" + std::to_string(port) + "; }\n}\n";
}

nlohmann::json Json(DaemonProcess& d, const std::string& path) {
  auto r = d.Get(path);
  return r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json{};
}

TEST(BindWatchE2e, RealNginxFailsToBindAHeldPort) {
  const int port = FreePort();
  ListenerProcess holder("pw-holder", "127.0.0.1", port);
  ASSERT_TRUE(holder.ok());
  const std::string config = WriteTempFile("expect:\n  - name: web\n    listen: 127.0.0.1:" +
                                           std::to_string(port) +
                                           "/tcp\n    owner: {process: nginx}\n");
  DaemonProcess d({"--config.file=" + config});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  ASSERT_TRUE(PollUntil([&] {
    return d.Get("/metrics").body.find("portwarden_bind_event_source_info{source=\"ebpf\"} 1") !=
           std::string::npos;
  })) << d.child().Stderr();

  char dir[] = "/tmp/portwarden-nginx-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string conf = std::string(dir) + "/nginx.conf";
  ASSERT_EQ(RunCommand("cat > " + conf, NginxConfig(dir, port)).status, 0);
  // nginx retries for about 2.5 s, then exits 1 ("still could not bind()").
  Child nginx({"/usr/sbin/nginx", "-e", "stderr", "-p", dir, "-c", conf});
  const std::string pid = std::to_string(nginx.pid());
  EXPECT_EQ(nginx.Wait(std::chrono::seconds(60)), 1) << nginx.Stderr();
  EXPECT_NE(nginx.Stderr().find("Address already in use"), std::string::npos) << nginx.Stderr();

  const std::string counter = "portwarden_bind_failures_total{proto=\"tcp\",address=\"127.0.0.1\","
                              "port=\"" + std::to_string(port) +
                              "\",process=\"nginx\",errno=\"EADDRINUSE\"} ";
  std::string metrics;
  ASSERT_TRUE(PollUntil([&] {
    metrics = d.Get("/metrics").body;
    return metrics.find(counter + "5") != std::string::npos;  // nginx tries five times
  })) << metrics;

  nlohmann::json bind_event;
  ASSERT_TRUE(PollUntil([&] {
    const nlohmann::json events = Json(d, "/api/v1/events");
    for (const auto& e : events["data"]) {
      if (e["type"] == "bind_failed" && e["port"] == port) bind_event = e;
    }
    return !bind_event.is_null();
  })) << d.Get("/api/v1/events").body;
  const std::string detail = bind_event["detail"];
  EXPECT_NE(detail.find("nginx (pid " + pid + ")"), std::string::npos) << detail;
  EXPECT_NE(detail.find("EADDRINUSE"), std::string::npos) << detail;
  EXPECT_NE(detail.find("held by pw-holder (pid " + std::to_string(holder.pid()) + ")"),
            std::string::npos)
      << detail;
  EXPECT_NE(bind_event["owner"].get<std::string>().find("pw-holder"), std::string::npos);

  bool bind_failed = false, annotated = false;
  const nlohmann::json state = Json(d, "/api/v1/state");
  for (const auto& f : state["data"]["findings"]) {
    const std::string explanation = f["explanation"];
    bind_failed = bind_failed || (f["kind"] == "bind_failed" && f["rule"] == "web");
    annotated = annotated || (f["kind"] == "wrong_owner" &&
                              explanation.find("nginx (pid " + pid + ") tried at ") !=
                                  std::string::npos &&
                              explanation.find("and got EADDRINUSE.") != std::string::npos);
  }
  EXPECT_TRUE(bind_failed);
  EXPECT_TRUE(annotated) << state.dump(2);
  EXPECT_NE(d.Get("/metrics").body.find("portwarden_finding{kind=\"bind_failed\",rule=\"web\""),
            std::string::npos);
  EXPECT_NE(d.child().Stderr().find("level=warn caller=sampler msg=bind_failed kind=bind_failed"),
            std::string::npos)
      << d.child().Stderr();
  RunCommand("rm -rf " + std::string(dir));
  unlink(config.c_str());
}

// The IDs of the eBPF programs process `pid` holds descriptors of (fdinfo's prog_id).
std::vector<std::string> ProgramIds(int pid) {
  std::vector<std::string> ids;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  const CommandResult r = RunCommand("for f in " + dir + "/*; do [ \"$(readlink $f)\" = "
                                     "anon_inode:bpf-prog ] && awk '/^prog_id:/ {print $2}' "
                                     "/proc/" + std::to_string(pid) + "/fdinfo/${f##*/}; done");
  std::istringstream lines(r.output);
  for (std::string id; std::getline(lines, id);) ids.push_back(id);
  return ids;
}

TEST(BindWatchE2e, KilledDaemonLeavesNoProgramBehind) {
  auto d = std::make_unique<DaemonProcess>();
  ASSERT_NE(d->port(), 0) << d->child().Stderr();
  ASSERT_TRUE(PollUntil([&] {
    return d->Get("/metrics").body.find("portwarden_bind_event_source_info{source=\"ebpf\"} 1") !=
           std::string::npos;
  })) << d->child().Stderr();
  const std::vector<std::string> ids = ProgramIds(d->child().pid());
  ASSERT_EQ(ids.size(), 5u);  // bind and listen, entry and exit; the state change
  for (const std::string& id : ids) {
    EXPECT_EQ(RunCommand("bpftool prog show id " + id).status, 0) << id;
  }
  d->child().Signal(SIGKILL);
  EXPECT_EQ(d->child().Wait(), 128 + SIGKILL);
  // The kernel frees a program once its last descriptor is closed (an RCU grace period).
  for (const std::string& id : ids) {
    EXPECT_TRUE(PollUntil([&] { return RunCommand("bpftool prog show id " + id).status != 0; }))
        << "program " << id << " outlived portwarden";
  }
}

TEST(BindWatchE2e, TheShippedUnitsCapabilitiesAreEnoughForNobody) {
  // packaging/portwarden.service: DynamicUser with exactly these four capabilities.
  const std::string caps = "+dac_read_search,+sys_ptrace,+bpf,+perfmon";
  DaemonProcess d({}, {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       "--inh-caps=" + caps, "--ambient-caps=" + caps,
                       "--bounding-set=-all," + caps, "--"});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  EXPECT_TRUE(PollUntil([&] {
    return d.Get("/metrics").body.find("portwarden_bind_event_source_info{source=\"ebpf\"} 1") !=
           std::string::npos;
  })) << d.child().Stderr();
}

TEST(BindWatchE2e, WithoutTheCapabilitiesTheSourceIsNoneAndListenersStillShow) {
  const int port = FreePort();
  ListenerProcess holder("pw-holder", "127.0.0.1", port);
  ASSERT_TRUE(holder.ok());
  // Root without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: bpf() is refused (EPERM).
  DaemonProcess d({}, {"/usr/bin/setpriv", "--bounding-set=-bpf,-perfmon,-sys_admin",
                       "--inh-caps=-bpf,-perfmon,-sys_admin", "--"});
  ASSERT_NE(d.port(), 0) << d.child().Stderr();
  std::string metrics;
  ASSERT_TRUE(PollUntil([&] {
    metrics = d.Get("/metrics").body;
    return metrics.find("port=\"" + std::to_string(port) + "\"") != std::string::npos;
  })) << d.child().Stderr();
  EXPECT_NE(metrics.find("portwarden_bind_event_source_info{source=\"none\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(d.child().Stderr().find("msg=\"no bind event source"), std::string::npos)
      << d.child().Stderr();
  EXPECT_NE(d.child().Stderr().find("Operation not permitted"), std::string::npos)
      << d.child().Stderr();
}

}  // namespace
}  // namespace portwarden::testing
