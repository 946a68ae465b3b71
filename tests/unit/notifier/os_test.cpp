#include "exporter/notifier/os.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/notifier/temp_dir.h"

namespace portwarden::notifier {
namespace {

using testing::TempDir;

TEST(WriteFileAtomically, ReplacesWholeAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.File("q.json");
  auto missing = ReadFileIfExists(path);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(WriteFileAtomically(path, "first, and longer than the second"));
  ASSERT_TRUE(WriteFileAtomically(path, "second"));
  auto read = ReadFileIfExists(path);
  ASSERT_TRUE(read && read->has_value());
  EXPECT_EQ(**read, "second");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  // Several MiB: written in pieces, read back whole.
  std::string big(5 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(WriteFileAtomically(path, big));
  EXPECT_EQ(**ReadFileIfExists(path), big);
}

TEST(WriteFileAtomically, ErrorsNameThePath) {
  TempDir dir;
  const std::string path = dir.File("no-such-dir") + "/q.json";
  auto written = WriteFileAtomically(path, "x");
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find("q.json.tmp"), std::string::npos)
      << written.error().message;
}

TEST(CreateParentDirectories, MakesTheChainOrSaysWhy) {
  TempDir dir;
  const std::string path = (dir.path() / "a" / "b" / "q.json").string();
  ASSERT_TRUE(CreateParentDirectories(path));
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "a" / "b"));
  ASSERT_TRUE(WriteFileAtomically(path, "x"));

  // A regular file where a directory should be.
  const std::string blocked = (dir.path() / "a" / "b" / "q.json" / "sub" / "q.json").string();
  auto made = CreateParentDirectories(blocked);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("cannot create directory"), std::string::npos);
}

TEST(RemoveFileIfExists, RemovesOrIgnores) {
  TempDir dir;
  const std::string path = dir.File("left.tmp");
  std::ofstream(path) << "partial";
  RemoveFileIfExists(path);
  EXPECT_FALSE(std::filesystem::exists(path));
  RemoveFileIfExists(path);
}

TEST(HostName, IsNotEmpty) { EXPECT_FALSE(HostName().empty()); }

TEST(DefaultQueuePath, IsAbsoluteAndNamed) {
  const std::string path = DefaultQueuePath();
  EXPECT_NE(path.find("portwarden"), std::string::npos);
  EXPECT_TRUE(path.ends_with("alert-queue.json"));
}

}  // namespace
}  // namespace portwarden::notifier
