// The gzip member made of parts, and bodies rendered and compressed once for every caller.
#include "exporter/rendered_body.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "tests/support/gunzip.h"

namespace portwarden {
namespace {

using testing::Gunzip;

std::string Gzip(std::string_view text, std::string_view more) {
  const GzipStart start = GzipBegin(text);
  return start.bytes + GzipEnd(start, more);
}

TEST(Gzip, OneMemberOfBothTexts) {
  // Text that compresses badly, so the output buffer has to grow.
  std::mt19937 random(7);
  std::string big;
  while (big.size() < (2u << 20)) big += std::to_string(random()) + "\n";
  const GzipStart start = GzipBegin(big);
  ASSERT_FALSE(start.bytes.empty());
  EXPECT_EQ(start.bytes.substr(0, 3), "\x1f\x8b\x08");  // gzip magic, deflate
  EXPECT_EQ(start.length, big.size());
  const std::string more = "portwarden_x 1\n";
  const std::string end = GzipEnd(start, more);
  ASSERT_FALSE(end.empty());
  size_t members = 0;
  EXPECT_EQ(Gunzip(start.bytes + end, &members), big + more);
  EXPECT_EQ(members, 1u);
  // The start is shared: another end makes another whole member.
  EXPECT_EQ(Gunzip(start.bytes + GzipEnd(start, "")), big);
  EXPECT_EQ(Gunzip(start.bytes + GzipEnd(start, std::string_view())), big);  // null data
  EXPECT_EQ(Gunzip(start.bytes), std::nullopt);  // unfinished alone
  EXPECT_EQ(Gunzip(start.bytes + end.substr(0, end.size() - 1)), std::nullopt);

  EXPECT_EQ(Gunzip(Gzip("", "")), "");
  EXPECT_EQ(Gunzip(Gzip("", more)), more);
  EXPECT_EQ(Gunzip(Gzip(more, "")), more);
  // A damaged trailer is caught: the CRC-32 covers both parts.
  std::string damaged = Gzip("a", "b");
  damaged[damaged.size() - 8] ^= 1;
  EXPECT_EQ(Gunzip(damaged), std::nullopt);
}

TEST(RenderedBody, CompressesOnceForEveryCaller) {
  const RenderedBody body(std::string(100000, 'a'));
  std::vector<const GzipStart*> seen(8);
  std::vector<std::thread> threads;
  for (auto& s : seen) threads.emplace_back([&] { s = &body.Gzip(); });
  for (auto& t : threads) t.join();
  for (const GzipStart* s : seen) EXPECT_EQ(s, &body.Gzip());
  EXPECT_EQ(Gunzip(body.Gzip().bytes + GzipEnd(body.Gzip(), "")), body.text());
}


std::string Joined(const std::vector<std::string_view>& pieces) {
  std::string out;
  for (std::string_view p : pieces) out += p;
  return out;
}

TEST(RenderedBody, SharedPrefixIsCompressedOnceForEveryBodyAfterIt) {
  auto prefix = std::make_shared<const RenderedBody>(std::string(200000, 'p') + "\n");
  const RenderedBody first("first_snapshot 1\n", prefix);
  const RenderedBody second("second_snapshot 2\n", prefix);
  const std::string live = "portwarden_live 3\n";
  for (const RenderedBody* body : {&first, &second}) {
    EXPECT_EQ(Joined(body->Pieces()), prefix->text() + body->text());
    const std::string end = GzipEnd(body->Gzip(), live);
    ASSERT_FALSE(end.empty());
    size_t members = 0;
    EXPECT_EQ(Gunzip(Joined(body->GzipPieces()) + end, &members),
              prefix->text() + body->text() + live);
    EXPECT_EQ(members, 1u);
    // The prefix's compressed bytes are the prefix's own, not a copy per body.
    EXPECT_EQ(body->GzipPieces().front().data(), prefix->Gzip().bytes.data());
    EXPECT_EQ(body->Gzip().length, prefix->text().size() + body->text().size());
  }
  // Continuing from a failed start fails instead of making a broken member.
  EXPECT_TRUE(GzipContinue(GzipStart{}, "x").bytes.empty());
  EXPECT_TRUE(GzipEnd(GzipStart{}, "x").empty());
}

TEST(RenderedBody, RendersOnFirstUseOnceForEveryCaller) {
  std::atomic<int> renders = 0;
  const RenderedBody body([&renders] {
    ++renders;
    return std::string(100000, 'r');
  });
  EXPECT_EQ(renders, 0);  // made on demand: a body nobody asks for costs nothing
  std::vector<const std::string*> seen(8);
  std::vector<std::thread> threads;
  for (auto& s : seen) threads.emplace_back([&] { s = &body.text(); });
  for (auto& t : threads) t.join();
  for (const std::string* s : seen) EXPECT_EQ(s, &body.text());
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(body.text(), std::string(100000, 'r'));
  EXPECT_EQ(Gunzip(body.Gzip().bytes + GzipEnd(body.Gzip(), "")), body.text());
  EXPECT_EQ(renders, 1);
}

}  // namespace
}  // namespace portwarden
