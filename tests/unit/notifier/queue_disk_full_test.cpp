// The alert queue on a full disk: a real, tiny tmpfs (in a mount namespace of this test
// process only) filled to the last byte. Writes fail, the last complete queue file stays as
// it was, alerts are kept in memory and still delivered, and once space is back the file
// catches up. Its own binary: unshare() must run before any thread exists.
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exporter/notifier/notifier.h"
#include "tests/unit/notifier/findings.h"
#include "tests/unit/notifier/receiver.h"
#include "tests/support/test_support.h"
#include "tests/unit/notifier/temp_dir.h"

namespace portwarden::notifier {
namespace {

using namespace std::chrono_literals;
using testing::ActiveOf;
using testing::Blocked;
using testing::Conflict;
using testing::Receiver;
using testing::TempDir;
using portwarden::testing::PollUntil;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Fills the filesystem of `path`'s directory with one file until a write fails (ENOSPC).
void Fill(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << std::strerror(errno);
  std::setvbuf(f, nullptr, _IONBF, 0);
  const std::string block(4096, 'x');
  while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {}
  std::fputc('x', f);  // the last partial block, byte by byte
  while (std::fputc('x', f) != EOF) {}
  EXPECT_EQ(errno, ENOSPC);
  std::fclose(f);
}

TEST(QueueDiskFull, WritesFailThenCatchUpAndNothingIsLost) {
  // Needs CAP_SYS_ADMIN to mount a tmpfs in a namespace: the suite runs as root, here and
  // in CI, so a refusal is a failure, not a reason to skip.
  ASSERT_EQ(unshare(CLONE_NEWNS), 0) << "unshare(CLONE_NEWNS): " << std::strerror(errno);
  ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
  TempDir dir;
  const std::string disk = dir.File("disk");
  std::filesystem::create_directories(disk);
  ASSERT_EQ(mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k"), 0) << std::strerror(errno);

  Receiver am;
  am.Answer(503, "unavailable");  // everything stays queued, and each retry persists
  AlertingConfig config;
  config.alertmanagers = {am.url()};
  config.backoff_initial = 20ms;
  config.backoff_max = 50ms;
  config.timeout = 5s;
  config.queue_path = disk + "/alerts.json";
  std::ostringstream log_text;
  auto logger = std::make_shared<spdlog::logger>(
      "notifier", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text));
  auto log = [&] {
    logger->flush();
    return log_text.str();
  };
  {
    Notifier n(logger);
    ASSERT_TRUE(n.Configure(config, "http://web01:10061"));
    n.Observe(ActiveOf({Blocked(1000)}), 1000);
    const std::string one = Read(config.queue_path);
    ASSERT_NE(one.find("\"blocked\""), std::string::npos) << one;

    // The disk fills up; a second finding arrives and the retries go on.
    Fill(disk + "/filler");
    n.Observe(ActiveOf({Blocked(1000), Conflict(8080, 1001)}), 1001);
    ASSERT_TRUE(PollUntil([&] {
      return log().find("cannot write the alert queue; alerts are kept in memory only") !=
             std::string::npos;
    })) << log();
    EXPECT_NE(log().find("No space left on device"), std::string::npos) << log();
    // The last complete file is untouched, no partial file is left, nothing is forgotten.
    EXPECT_EQ(Read(config.queue_path), one);
    EXPECT_FALSE(std::filesystem::exists(config.queue_path + ".tmp"));
    EXPECT_EQ(n.QueueLength(), 2u);

    // Space is back: the next retry writes the whole queue again.
    std::filesystem::remove(disk + "/filler");
    ASSERT_TRUE(PollUntil([&] { return log().find("alert queue written again") != std::string::npos; }))
        << log();
    const std::string two = Read(config.queue_path);
    EXPECT_NE(two.find("\"blocked\""), std::string::npos) << two;
    EXPECT_NE(two.find("\"conflict\""), std::string::npos) << two;

    // And Alertmanager, back too, gets both.
    am.Answer(200);
    ASSERT_TRUE(PollUntil([&] { return n.QueueLength() == 0; })) << log();
    n.Stop();
  }
  bool blocked = false, conflict = false;
  for (const auto& request : am.Requests()) {
    auto alerts = nlohmann::json::parse(request.body, nullptr, false);
    if (alerts.is_discarded()) continue;
    for (const auto& a : alerts) {
      blocked |= a["labels"].value("kind", "") == "blocked";
      conflict |= a["labels"].value("kind", "") == "conflict";
    }
  }
  EXPECT_TRUE(blocked && conflict);
  umount2(disk.c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace portwarden::notifier
