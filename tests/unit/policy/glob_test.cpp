#include "exporter/policy/glob.h"

#include <gtest/gtest.h>

namespace portwarden::policy {
namespace {

struct MatchCase {
  const char* pattern;
  const char* text;
  bool match;
};

TEST(GlobMatch, Table) {
  const MatchCase cases[] = {
      {"nginx", "nginx", true},
      {"nginx", "nginx2", false},
      {"nginx*", "nginx: worker", true},
      {"*", "", true},
      {"?", "", false},
      {"a?c", "abc", true},
      {"*.service", "nginx.service", true},
      {"*.service", "nginx.socket", false},
      {"/usr/*/nginx", "/usr/local/sbin/nginx", true},         // * crosses path separators
      {"C:\\nginx\\*.exe", "C:\\nginx\\nginx.exe", true},      // backslash is not an escape
      {"NT AUTHORITY\\SYSTEM", "nt authority\\system", true},  // ASCII case ignored
      {"W3SVC", "w3svc", true},
      {"[abc]x", "bx", true},
      {"[abc]x", "dx", false},
      {"[!abc]x", "dx", true},
      {"[^abc]x", "ax", false},
      {"[a-c]", "B", true},
      {"[a-]", "-", true},
      {"[]]", "]", true},
      {"[*]", "*", true},
      {"[*]", "x", false},
      {"*a*b*c", "xxaxxbxxc", true},
      {"*a*b*c", "xxaxxbxx", false},
      {"[abc", "a", false},  // invalid patterns match nothing
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match) << c.pattern << " vs " << c.text;
  }
}

TEST(GlobError, ValidPatterns) {
  for (const char* pattern : {"nginx", "*", "[abc]", "[!a-z]*", "[]]", "[a-]", "a[*]b"}) {
    EXPECT_EQ(GlobError(pattern), std::nullopt) << pattern;
  }
}

TEST(GlobError, UnterminatedSet) {
  EXPECT_EQ(GlobError("ng[abc"), "unterminated \"[\" at offset 2 (expected a closing \"]\")");
  EXPECT_NE(GlobError("[]"), std::nullopt);
  EXPECT_NE(GlobError("[!]"), std::nullopt);
}

TEST(GlobError, ReversedRange) {
  EXPECT_EQ(GlobError("[z-a]"), "reversed range \"z-a\" (expected low-high)");
}

}  // namespace
}  // namespace portwarden::policy
