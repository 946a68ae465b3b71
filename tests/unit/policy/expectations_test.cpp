#include "exporter/policy/expectations.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

namespace portwarden::policy {
namespace {

Expected<std::vector<Expectation>> Load(const std::string& yaml) {
  return LoadExpectations(YAML::Load(yaml)["expect"], "portwarden.yml");
}

Owner ProcessOwner(std::string name, std::string exe = "", std::string service = "",
                   std::string user = "") {
  Owner owner;
  owner.kind = OwnerKind::kProcess;
  owner.holders = {std::make_shared<const Process>(Process{.pid = 812,
                                                           .ppid = 1,
                                                           .name = std::move(name),
                                                           .exe = std::move(exe),
                                                           .user = std::move(user),
                                                           .service = std::move(service),
                                                           .container = {},
                                                           .container_runtime = {},
                                                           .pod = {},
                                                           .listen_fds = {}})};
  return owner;
}

TEST(LoadExpectations, FixtureWithEveryField) {
  const YAML::Node root = YAML::LoadFile(PORTWARDEN_FIXTURES_DIR "/config/expect_full.yml");
  const auto loaded = LoadExpectations(root["expect"], "expect_full.yml");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 4u);

  const Expectation& web = (*loaded)[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.source, "expect_full.yml:4:5");
  ASSERT_EQ(web.listen.size(), 2u);
  EXPECT_EQ(ToString(web.listen[0]), "10.0.0.5:80/tcp");
  EXPECT_EQ(ToString(web.listen[1]), "[2001:db8::5]:443/tcp");
  ASSERT_TRUE(web.owner.has_value());
  EXPECT_EQ(ToString(*web.owner),
            "process=nginx* exe=/usr/sbin/nginx service=nginx.service user=root kind=process");
  EXPECT_TRUE(web.exclusive);

  const Expectation& iis = (*loaded)[1];
  EXPECT_EQ(ToString(iis.listen[0]), "172.16.1.1:80/tcp");
  EXPECT_EQ(iis.owner->kind, OwnerKind::kHttpSys);
  EXPECT_FALSE(iis.exclusive);

  const Expectation& dns = (*loaded)[2];
  ASSERT_EQ(dns.listen.size(), 4u);
  for (const ListenSpec& spec : dns.listen) {
    EXPECT_TRUE(spec.AnyAddress());
    EXPECT_EQ(spec.proto, Proto::kUdp);
    EXPECT_EQ(ToString(spec), "*:53/udp");
  }
  EXPECT_EQ(ToString(*dns.owner), "any owner");

  const Expectation& ssh = (*loaded)[3];
  EXPECT_FALSE(ssh.owner.has_value());
  EXPECT_TRUE(ssh.exclusive);
}

TEST(LoadExpectations, AbsentOrEmptySectionMeansNone) {
  for (const char* yaml : {"other: 1", "expect:", "expect: []"}) {
    const auto loaded = Load(yaml);
    ASSERT_TRUE(loaded.ok()) << yaml << ": " << loaded.error().message;
    EXPECT_TRUE(loaded->empty()) << yaml;
  }
}

TEST(LoadExpectations, ListenForms) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.0.0.5:80", "10.0.0.5:80/tcp"}, {"10.0.0.5:80/udp", "10.0.0.5:80/udp"},
      {"0.0.0.0:80", "*:80/tcp"},         {"':::80'", "*:80/tcp"},
      {"'[::]:80'", "*:80/tcp"},          {"'*:65535/udp'", "*:65535/udp"},
      {"'[::1]:1'", "[::1]:1/tcp"},       {"'[2001:DB8::0:5]:443'", "[2001:db8::5]:443/tcp"},
  };
  for (const auto& [text, canonical] : cases) {
    const auto loaded =
        Load(std::string("expect:\n  - {name: a, listen: ") + text + ", owner: {}}\n");
    ASSERT_TRUE(loaded.ok()) << text << ": " << loaded.error().message;
    EXPECT_EQ(ToString((*loaded)[0].listen[0]), canonical) << text;
  }
}

struct ErrorCase {
  const char* what;
  const char* yaml;
  const char* message;
};

TEST(LoadExpectations, ErrorsNamePlaceAndExpectation) {
  const ErrorCase cases[] = {
      {"unknown key",
       "expect:\n"
       "  - name: web\n"
       "    lisen: 10.0.0.5:80\n",
       "portwarden.yml:3:5: expect[0].lisen: unknown key (expected one of: name, listen, owner, "
       "exclusive, netns)"},
      {"unknown owner key",
       "expect:\n"
       "  - name: web\n"
       "    listen: 10.0.0.5:80\n"
       "    owner: {process: nginx, pid: 812}\n",
       "portwarden.yml:4:29: expect[0].owner.pid: unknown key (expected one of: process, exe, "
       "service, user, kind, container, unit)"},
      {"duplicate key",
       "expect:\n"
       "  - name: web\n"
       "    name: web2\n"
       "    listen: 10.0.0.5:80\n"
       "    owner: {}\n",
       "portwarden.yml:3:5: expect[0].name: duplicate key"},
      {"section is not a list",
       "expect:\n"
       "  web: 10.0.0.5:80\n",
       "portwarden.yml:2:3: expect: expected a list of expectations, got a mapping"},
      {"entry is not a mapping",
       "expect:\n"
       "  - web\n",
       "portwarden.yml:2:5: expect[0]: expected a mapping with name, listen and owner or "
       "exclusive, got \"web\""},
      {"name is not a string",
       "expect:\n"
       "  - name: [web]\n"
       "    listen: 10.0.0.5:80\n"
       "    owner: {}\n",
       "portwarden.yml:2:11: expect[0].name: expected a string, got a list"},
      {"owner is not a mapping",
       "expect:\n"
       "  - name: web\n"
       "    listen: 10.0.0.5:80\n"
       "    owner: nginx\n",
       "portwarden.yml:4:12: expect[0].owner: expected a mapping with any of process, exe, "
       "service, user, kind, container, unit, got \"nginx\""},
      {"exclusive is not a boolean",
       "expect:\n"
       "  - name: web\n"
       "    listen: 10.0.0.5:80\n"
       "    exclusive: yes please\n",
       "portwarden.yml:4:16: expect[0].exclusive: expected true or false, got \"yes please\""},
      {"listen is a mapping",
       "expect:\n"
       "  - name: web\n"
       "    listen: {port: 80}\n"
       "    owner: {}\n",
       "portwarden.yml:3:13: expect[0].listen: expected ADDR:PORT[/tcp|udp] or a list of them, "
       "got a mapping"},
      {"bad port",
       "expect:\n"
       "  - name: web\n"
       "    owner: {process: nginx}\n"
       "    listen: 10.0.0.5:8o\n",
       "portwarden.yml:4:13: expect[0].listen: invalid port \"8o\" (expected 1-65535)"},
      {"port out of range",
       "expect:\n"
       "  - name: web\n"
       "    owner: {}\n"
       "    listen: [10.0.0.5:80, 10.0.0.5:65536]\n",
       "portwarden.yml:4:27: expect[0].listen[1]: invalid port \"65536\" (expected 1-65535)"},
      {"port zero",
       "expect:\n"
       "  - name: web\n"
       "    owner: {}\n"
       "    listen: 10.0.0.5:0\n",
       "portwarden.yml:4:13: expect[0].listen: invalid port \"0\" (expected 1-65535)"},
      {"bad address",
       "expect:\n"
       "  - name: web\n"
       "    owner: {}\n"
       "    listen: 10.0.0.300:80\n",
       "portwarden.yml:4:13: expect[0].listen: invalid address \"10.0.0.300\" (expected IPv4, "
       "[IPv6], or *, 0.0.0.0, [::] for any address)"},
      {"IPv4 in brackets",
       "expect:\n"
       "  - name: web\n"
       "    owner: {}\n"
       "    listen: '[10.0.0.5]:80'\n",
       "portwarden.yml:4:13: expect[0].listen: invalid address \"10.0.0.5\" (expected IPv4, "
       "[IPv6], or *, 0.0.0.0, [::] for any address)"},
      {"IPv6 without brackets",
       "expect:\n"
       "  - name: web\n"
       "    owner: {}\n"
       "    listen: 2001:db8::5:443\n",
       "portwarden.yml:4:13: expect[0].listen: IPv6 address \"2001:db8::5\" must be in brackets "
       "(expected [2001:db8::5]:443)"},
      {"no port",
       "expect:\n"
       "  - name: web\n"
       "    owner: {}\n"
       "    listen: 443\n",
       "portwarden.yml:4:13: expect[0].listen: invalid listen \"443\" (expected "
       "ADDR:PORT[/tcp|udp], e.g. \"10.0.0.5:80/tcp\", \"[::1]:443\" or \"*:53/udp\")"},
      {"bad protocol",
       "expect:\n"
       "  - name: web\n"
       "    owner: {}\n"
       "    listen: 10.0.0.5:80/sctp\n",
       "portwarden.yml:4:13: expect[0].listen: invalid protocol \"sctp\" (expected tcp or udp)"},
      {"empty listen list",
       "expect:\n"
       "  - name: web\n"
       "    owner: {}\n"
       "    listen: []\n",
       "portwarden.yml:4:13: expect[0].listen: expected at least one ADDR:PORT[/tcp|udp], got "
       "an empty list"},
      {"bad glob",
       "expect:\n"
       "  - name: web\n"
       "    listen: 10.0.0.5:80\n"
       "    owner:\n"
       "      process: '[abc'\n",
       "portwarden.yml:5:16: expect[0].owner.process: invalid glob \"[abc\": unterminated \"[\" "
       "at offset 0 (expected a closing \"]\")"},
      {"empty glob",
       "expect:\n"
       "  - name: web\n"
       "    listen: 10.0.0.5:80\n"
       "    owner: {exe: ''}\n",
       "portwarden.yml:4:18: expect[0].owner.exe: expected a non-empty string"},
      {"bad kind",
       "expect:\n"
       "  - name: web\n"
       "    listen: 10.0.0.5:80\n"
       "    owner: {kind: httpsys}\n",
       "portwarden.yml:4:19: expect[0].owner.kind: invalid kind \"httpsys\" (expected process, "
       "http.sys or kernel)"},
      {"missing listen",
       "expect:\n"
       "  - name: web\n"
       "    owner: {process: nginx}\n",
       "portwarden.yml:2:5: expect[0]: missing required key \"listen\""},
      {"missing name",
       "expect:\n"
       "  - listen: 10.0.0.5:80\n"
       "    owner: {process: nginx}\n",
       "portwarden.yml:2:5: expect[0]: missing required key \"name\""},
      {"checks nothing",
       "expect:\n"
       "  - name: web\n"
       "    listen: 10.0.0.5:80\n",
       "portwarden.yml:2:5: expect[0]: expected \"owner\", \"exclusive: true\" or both (this "
       "entry checks nothing)"},
      {"duplicate name",
       "expect:\n"
       "  - name: web\n"
       "    listen: 10.0.0.5:80\n"
       "    owner: {process: nginx}\n"
       "  - name: web\n"
       "    listen: 10.0.0.6:80\n"
       "    owner: {process: apache2}\n",
       "portwarden.yml:5:11: expect[1].name: duplicate name \"web\" (first defined at "
       "portwarden.yml:2:5)"},
  };
  for (const ErrorCase& c : cases) {
    const auto loaded = Load(c.yaml);
    ASSERT_FALSE(loaded.ok()) << c.what;
    EXPECT_EQ(loaded.error().message, c.message) << c.what;
  }
}

TEST(OwnerPattern, AllGivenFieldsMustMatch) {
  OwnerPattern pattern;
  pattern.process = "nginx";
  pattern.user = "www-*";
  EXPECT_TRUE(pattern.Matches(ProcessOwner("nginx", "", "", "www-data")));
  EXPECT_FALSE(pattern.Matches(ProcessOwner("nginx", "", "", "root")));
  EXPECT_FALSE(pattern.Matches(ProcessOwner("apache2", "", "", "www-data")));
  EXPECT_TRUE(OwnerPattern{}.Matches(Owner{}));
}

TEST(OwnerPattern, WindowsImageNameMatchesWithoutExe) {
  OwnerPattern pattern;
  pattern.process = "nginx";
  EXPECT_TRUE(pattern.Matches(ProcessOwner("nginx.exe")));
  EXPECT_TRUE(pattern.Matches(ProcessOwner("NGINX.EXE")));
  EXPECT_FALSE(pattern.Matches(ProcessOwner("nginx.exe.bak")));
  pattern.process = "nginx.exe";
  EXPECT_TRUE(pattern.Matches(ProcessOwner("nginx.exe")));
  EXPECT_FALSE(pattern.Matches(ProcessOwner("nginx")));
}

TEST(OwnerPattern, ServiceMatchesOneOfSeveral) {
  OwnerPattern pattern;
  pattern.service = "W3SVC";
  EXPECT_TRUE(pattern.Matches(ProcessOwner("svchost.exe", "", "WAS, W3SVC")));
  EXPECT_TRUE(pattern.Matches(ProcessOwner("svchost.exe", "", "w3svc")));
  EXPECT_FALSE(pattern.Matches(ProcessOwner("svchost.exe", "", "WinRM")));
  EXPECT_FALSE(pattern.Matches(ProcessOwner("svchost.exe")));
}

TEST(OwnerPattern, KindAndExe) {
  OwnerPattern pattern;
  pattern.kind = OwnerKind::kHttpSys;
  Owner http_sys;
  http_sys.kind = OwnerKind::kHttpSys;
  http_sys.holders = {std::make_shared<const Process>(Process{4, 0, "System", "", "", "", "", "", "", {}})};
  EXPECT_TRUE(pattern.Matches(http_sys));
  EXPECT_FALSE(pattern.Matches(ProcessOwner("System")));

  OwnerPattern exe;
  exe.exe = "C:\\nginx\\*";
  EXPECT_TRUE(exe.Matches(ProcessOwner("nginx.exe", "C:\\nginx\\nginx.exe")));
  EXPECT_FALSE(exe.Matches(ProcessOwner("nginx.exe", "D:\\nginx\\nginx.exe")));
}

}  // namespace
}  // namespace portwarden::policy
