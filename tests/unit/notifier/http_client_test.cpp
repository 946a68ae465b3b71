#include "exporter/notifier/http_client.h"

#include <gtest/gtest.h>

#include "tests/unit/notifier/receiver.h"

namespace portwarden::notifier {
namespace {

using testing::Receiver;

TEST(HttpPostJson, PostsTheBodyAndReturnsTheStatus) {
  Receiver r;
  auto url = ParseHttpUrl(r.url() + "/api/v2/alerts");
  ASSERT_TRUE(url);
  auto result = HttpPostJson(*url, R"([{"labels":{"a":"b"}}])", std::chrono::seconds(5));
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->status, 200);
  EXPECT_TRUE(result->body.empty());  // a success's body is not read
  ASSERT_EQ(r.Requests().size(), 1u);
  const auto req = r.Requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.uri, "/api/v2/alerts");
  EXPECT_EQ(req.content_type, "application/json");
  EXPECT_EQ(req.host, "127.0.0.1:" + std::to_string(r.port()));
  EXPECT_EQ(req.body, R"([{"labels":{"a":"b"}}])");
}

TEST(HttpPostJson, ErrorStatusCarriesTheBody) {
  Receiver r;
  r.Answer(400, "invalid label set");
  auto result = HttpPostJson(*ParseHttpUrl(r.url()), "[]", std::chrono::seconds(5));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(result->body, "invalid label set");
}

TEST(HttpPostJson, NothingListeningIsAnError) {
  int port;
  {
    Receiver gone;
    port = gone.port();
  }
  auto result = HttpPostJson(*ParseHttpUrl("http://127.0.0.1:" + std::to_string(port)), "[]",
                             std::chrono::seconds(5));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("cannot connect to 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << result.error().message;
}

TEST(HttpPostJson, NoAnswerWithinTheTimeoutIsAnError) {
  Receiver r;
  r.Hold();
  auto result = HttpPostJson(*ParseHttpUrl(r.url()), "[]", std::chrono::milliseconds(200));
  r.Release();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("no response from"), std::string::npos)
      << result.error().message;
}

}  // namespace
}  // namespace portwarden::notifier
