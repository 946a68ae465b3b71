// The main of every gtest binary: gtest's own, plus one line per skipped test, printed only
// when nothing failed. ctest's SKIP_REGULAR_EXPRESSION (tests/CMakeLists.txt) matches that
// line, so a binary whose tests passed but some skipped shows as skipped, and a binary with
// a failure shows as failed even if another of its tests skipped. scripts/test.sh reads the
// same lines to compare the skipped tests with tests/skips.allow.
#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int status = RUN_ALL_TESTS();
  if (status != 0) return status;
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const ::testing::TestInfo& test = *suite.GetTestInfo(j);
      if (!test.result()->Skipped()) continue;
      const char* reason = "";
      for (int k = 0; k < test.result()->total_part_count(); ++k) {
        const ::testing::TestPartResult& part = test.result()->GetTestPartResult(k);
        if (part.skipped()) reason = part.message();
      }
      std::printf("portwarden-test: skipped %s.%s: %s\n", suite.name(), test.name(), reason);
    }
  }
  return status;
}
