// The shipped dashboards and rules, checked without servers: Grafana dashboards importable
// (__inputs datasource, templated job/instance, one datasource everywhere), every alert with
// severity, summary, description, a runbook section in dashboards/README.md and promtool
// tests that make it fire and keep it quiet. alerting_test runs the queries for real.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace portwarden::testing {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

const fs::path kDir = PORTWARDEN_DASHBOARDS_DIR;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ForEachPanel(const Json& panels, const std::function<void(const Json&)>& f) {
  for (const auto& p : panels) {
    f(p);
    if (p.contains("panels")) ForEachPanel(p["panels"], f);
  }
}

class Dashboard : public ::testing::TestWithParam<const char*> {};

TEST_P(Dashboard, IsImportableAndTemplated) {
  const Json d = Json::parse(ReadText(kDir / "grafana" / GetParam()), nullptr, false);
  ASSERT_FALSE(d.is_discarded()) << GetParam() << " is not JSON";
  ASSERT_EQ(d["__inputs"].size(), 1u);
  EXPECT_EQ(d["__inputs"][0]["name"], "DS_PROMETHEUS");
  EXPECT_EQ(d["__inputs"][0]["type"], "datasource");
  EXPECT_EQ(d["__inputs"][0]["pluginId"], "prometheus");
  EXPECT_TRUE(d["id"].is_null());  // an import creates its own
  EXPECT_FALSE(d.value("uid", "").empty());
  EXPECT_FALSE(d.value("title", "").empty());

  std::set<std::string> required;
  for (const auto& r : d["__requires"])
    required.insert(r["type"].get<std::string>() + "/" + r["id"].get<std::string>());
  EXPECT_TRUE(required.contains("grafana/grafana"));
  EXPECT_TRUE(required.contains("datasource/prometheus"));

  const Json ds = {{"type", "prometheus"}, {"uid", "${DS_PROMETHEUS}"}};
  std::set<std::string> variables;
  for (const auto& v : d["templating"]["list"]) {
    variables.insert(v["name"]);
    EXPECT_EQ(v["datasource"], ds) << v["name"];
    EXPECT_EQ(v["type"], "query");
  }
  EXPECT_EQ(variables, (std::set<std::string>{"job", "instance"}));

  std::set<int> ids;
  int queries = 0;
  ForEachPanel(d["panels"], [&](const Json& p) {
    const std::string title = p.value("title", "");
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate panel id in " << title;
    const Json& g = p["gridPos"];
    EXPECT_LE(g["x"].get<int>() + g["w"].get<int>(), 24) << title;
    if (p["type"] == "row") return;
    EXPECT_TRUE(required.contains("panel/" + p["type"].get<std::string>())) << title;
    EXPECT_EQ(p["datasource"], ds) << title;
    EXPECT_FALSE(p.value("description", "").empty()) << title;
    ASSERT_FALSE(p["targets"].empty()) << title;
    for (const auto& t : p["targets"]) {
      EXPECT_EQ(t["datasource"], ds) << title;
      const std::string expr = t.value("expr", "");
      EXPECT_NE(expr.find("job=~\"$job\""), std::string::npos) << title << ": " << expr;
      EXPECT_NE(expr.find("instance=~\"$instance\""), std::string::npos) << title << ": " << expr;
      ++queries;
    }
  });
  EXPECT_GT(queries, 10);
}

INSTANTIATE_TEST_SUITE_P(Grafana, Dashboard,
                         ::testing::Values("portwarden-fleet.json", "portwarden-host.json"));

TEST(Rules, EveryAlertIsDocumentedAndTestedBothWays) {
  const YAML::Node rules = YAML::LoadFile((kDir / "prometheus" / "portwarden.rules.yml").string());
  const YAML::Node tests =
      YAML::LoadFile((kDir / "prometheus" / "portwarden.rules_test.yml").string());
  const std::string readme = ReadText(kDir / "README.md");

  std::map<std::string, std::pair<int, int>> cases;  // alertname -> (firing, quiet)
  for (const auto& t : tests["tests"]) {
    for (const auto& a : t["alert_rule_test"]) {
      auto& c = cases[a["alertname"].as<std::string>()];
      (a["exp_alerts"].size() > 0 ? c.first : c.second)++;
    }
  }
  std::set<std::string> alerts;
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) {
      if (!rule["alert"]) continue;
      const std::string name = rule["alert"].as<std::string>();
      EXPECT_TRUE(alerts.insert(name).second) << "duplicate alert " << name;
      const std::string severity = rule["labels"]["severity"].as<std::string>("");
      EXPECT_TRUE(severity == "critical" || severity == "warning" || severity == "info") << name;
      EXPECT_FALSE(rule["annotations"]["summary"].as<std::string>("").empty()) << name;
      const std::string description = rule["annotations"]["description"].as<std::string>("");
      EXPECT_NE(description.find("Fix"), std::string::npos) << name << ": say how to fix it";
      EXPECT_NE(readme.find("\n### " + name + "\n"), std::string::npos)
          << name << ": no runbook section in dashboards/README.md";
      EXPECT_GE(cases[name].first, 1) << name << ": no promtool case where it fires";
      EXPECT_GE(cases[name].second, 1) << name << ": no promtool case where it stays quiet";
    }
  }
  EXPECT_EQ(alerts.size(), 19u);
  for (const auto& [name, c] : cases)
    EXPECT_TRUE(alerts.contains(name)) << "test of unknown " << name;
}

}  // namespace
}  // namespace portwarden::testing
