// kill -9 of a process in the middle of writing the queue file: the file stays the last
// complete version, and a restart recovers it (and removes the torn temporary file).
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "exporter/notifier/notifier.h"
#include "exporter/notifier/os.h"
#include "tests/unit/notifier/findings.h"
#include "tests/unit/notifier/temp_dir.h"

namespace portwarden::notifier {
namespace {

using testing::TempDir;

// A queue state of `n` entries for one receiver: a few MiB for n in the thousands.
std::string State(int n) {
  CoreSettings s;
  s.targets = {"http://127.0.0.1:9"};
  s.max_entries = static_cast<size_t>(n);
  NotifierCore core(s);
  testing::Active active;
  for (int i = 0; i < n; ++i) {
    auto t = testing::Conflict(static_cast<uint16_t>(i % 65535 + 1), 1000);
    t.finding.key += "|" + std::to_string(i);
    t.finding.explanation = std::string(1500, 'e');
    active.emplace(t.finding.key, t);
  }
  core.Observe(active, 1000);
  return core.Encode();
}

off_t SizeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST(QueueFileCrash, KillDuringWriteKeepsTheLastCompleteVersion) {
  TempDir dir;
  const std::string path = dir.File("alerts.json");
  const std::string small = State(10);
  const std::string big = State(4000);
  const off_t big_size = static_cast<off_t>(big.size());
  ASSERT_TRUE(WriteFileAtomically(path, small));

  int torn = 0;  // kills that landed while the temporary file was partly written
  for (int attempt = 0; attempt < 40 && torn < 3; ++attempt) {
    ::unlink((path + ".tmp").c_str());
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The writer: replaces the file with the big state, over and over.
      for (;;) WriteFileAtomically(path, big);
    }
    // Kill it as soon as its temporary file is there but not complete (the writer writes
    // 1 MiB at a time); after the deadline, wherever it is.
    off_t seen = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      seen = SizeOf(path + ".tmp");
      if (seen > 0 && seen < big_size) break;
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    if (seen > 0 && seen < big_size) ++torn;

    // Whatever moment it died at, the file is one complete version.
    auto text = ReadFileIfExists(path);
    ASSERT_TRUE(text && text->has_value());
    ASSERT_TRUE(**text == small || **text == big) << "size " << (*text)->size();
    NotifierCore check(CoreSettings{{"http://127.0.0.1:9"}, {}, 60, 1, 60, 10'000});
    ASSERT_TRUE(check.Restore(**text));
  }
  RecordProperty("torn_kills", torn);
  EXPECT_GE(torn, 1) << "no kill landed in the middle of a write";

  // A restart: the notifier loads the file, removes the torn temporary one.
  std::ofstream(path + ".tmp") << big.substr(0, big.size() / 3);
  AlertingConfig config;
  config.alertmanagers = {"http://127.0.0.1:9"};
  config.queue_path = path;
  config.queue_max_entries = 10'000;
  Notifier n(
      std::make_shared<spdlog::logger>("n", std::make_shared<spdlog::sinks::null_sink_mt>()));
  auto configured = n.Configure(config, "http://h:1");
  ASSERT_TRUE(configured) << configured.error().message;
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const size_t queued = n.QueueLength();
  EXPECT_TRUE(queued == 10u || queued == 4000u) << queued;
  n.Stop();
}

}  // namespace
}  // namespace portwarden::notifier
