#include "exporter/policy/expectations.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <utility>

#include "exporter/policy/address.h"
#include "exporter/policy/glob.h"
#include "collectors/common/text.h"
#include "exporter/yaml_reader.h"

namespace portwarden::policy {
namespace {

/// The config's names for owner kinds; kUnknown has none because no expectation can ask for
/// an owner that could not be read.
constexpr std::array<std::pair<std::string_view, OwnerKind>, 3> kKindNames = {{
    {"process", OwnerKind::kProcess},
    {"http.sys", OwnerKind::kHttpSys},
    {"kernel", OwnerKind::kKernel},
}};

std::string_view KindName(OwnerKind kind) {
  for (const auto& [name, value] : kKindNames) {
    if (value == kind) return name;
  }
  return "unknown";
}

/// Windows image names carry ".exe"; letting "nginx" match "nginx.exe" keeps one config
/// usable on both platforms.
bool ProcessNameMatches(std::string_view pattern, std::string_view name) {
  return GlobMatch(pattern, name) ||
         (GlobMatch("?*.exe", name) && GlobMatch(pattern, name.substr(0, name.size() - 4)));
}

bool ServiceMatches(std::string_view pattern, std::string_view services) {
  if (GlobMatch(pattern, services)) return true;
  std::size_t start = 0;
  while (start <= services.size()) {
    const std::size_t comma = std::min(services.find(',', start), services.size());
    if (GlobMatch(pattern, Trim(services.substr(start, comma - start)))) return true;
    start = comma + 1;
  }
  return false;
}

constexpr std::string_view kListenForm =
    "expected ADDR:PORT[/tcp|udp], e.g. \"10.0.0.5:80/tcp\", \"[::1]:443\" or \"*:53/udp\"";

/// Parses "ADDR:PORT[/PROTO]"; the Error holds only the message, the caller adds the place.
Expected<ListenSpec> ParseListen(std::string_view text) {
  ListenSpec spec;
  std::string_view rest = text;
  if (const std::size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
    const std::string_view proto = rest.substr(slash + 1);
    if (proto == "tcp") {
      spec.proto = Proto::kTcp;
    } else if (proto == "udp") {
      spec.proto = Proto::kUdp;
    } else {
      return Error{"invalid protocol " + Quote(proto) + " (expected tcp or udp)"};
    }
    rest = rest.substr(0, slash);
  }

  std::string_view address;
  std::string_view port;
  const bool bracketed = !rest.empty() && rest.front() == '[';
  if (bracketed) {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Error{"invalid listen " + Quote(text) + " (" + std::string(kListenForm) + ")"};
    }
    address = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return Error{"invalid listen " + Quote(text) + " (" + std::string(kListenForm) + ")"};
    }
    address = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (address != "::" && address.find(':') != std::string_view::npos) {
      return Error{"IPv6 address " + Quote(address) + " must be in brackets (expected [" +
                   std::string(address) + "]:" + std::string(port) + ")"};
    }
  }

  // An unbracketed "::" reached here only as the whole address (checked above).
  if (address != "*" && !(address == "::" && !bracketed)) {
    const std::optional<std::string> canonical = CanonicalAddress(address);
    if (!canonical || bracketed != IsIpv6(*canonical)) {
      return Error{"invalid address " + Quote(address) +
                   " (expected IPv4, [IPv6], or *, 0.0.0.0, [::] for any address)"};
    }
    if (!IsWildcard(*canonical)) spec.address = *canonical;
  }

  unsigned value = 0;
  bool digits_only = !port.empty() && port.size() <= 5;
  for (char c : port) {
    digits_only = digits_only && c >= '0' && c <= '9';
    if (digits_only) value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (!digits_only || value < 1 || value > 65535) {
    return Error{"invalid port " + Quote(port) + " (expected 1-65535)"};
  }
  spec.port = static_cast<uint16_t>(value);
  return spec;
}

/// Walks one `expect:` node; every failure becomes "file:line:col: path: message".
class Loader : public YamlReader {
 public:
  explicit Loader(std::string_view file_name) : YamlReader(file_name) {}

  Expected<std::vector<Expectation>> Load(const YAML::Node& expect_node) const {
    std::vector<Expectation> expectations;
    if (!expect_node.IsDefined() || expect_node.IsNull()) return expectations;
    if (!expect_node.IsSequence()) {
      return Fail(expect_node, "expect",
                  "expected a list of expectations, got " + YamlDescribe(expect_node));
    }
    std::map<std::string, std::string> first_definition;  // name -> where
    for (std::size_t i = 0; i < expect_node.size(); ++i) {
      const YAML::Node entry = expect_node[i];
      const std::string path = "expect[" + std::to_string(i) + "]";
      Expected<Expectation> expectation = ReadEntry(entry, path);
      if (!expectation) return expectation.error();
      const auto [it, inserted] = first_definition.emplace(expectation->name, expectation->source);
      if (!inserted) {
        return Fail(entry["name"], path + ".name",
                    "duplicate name " + Quote(expectation->name) + " (first defined at " +
                        it->second + ")");
      }
      expectations.push_back(std::move(expectation).value());
    }
    return expectations;
  }

 private:
  Expected<std::string> ReadGlob(const YAML::Node& node, std::string_view path) const {
    Expected<std::string> pattern = ReadString(node, path);
    if (!pattern) return pattern;
    if (const std::optional<std::string> problem = GlobError(*pattern)) {
      return Fail(node, path, "invalid glob " + Quote(*pattern) + ": " + *problem);
    }
    return pattern;
  }

  Expected<ListenSpec> ReadListen(const YAML::Node& node, std::string_view path) const {
    Expected<std::string> text = ReadString(node, path);
    if (!text) return text.error();
    Expected<ListenSpec> spec = ParseListen(*text);
    if (!spec) return Fail(node, path, spec.error().message);
    return spec;
  }

  Expected<std::vector<ListenSpec>> ReadListenList(const YAML::Node& node,
                                                   const std::string& path) const {
    std::vector<ListenSpec> specs;
    if (node.IsMap() || node.IsNull()) {
      return Fail(node, path,
                  "expected ADDR:PORT[/tcp|udp] or a list of them, got " + YamlDescribe(node));
    }
    if (!node.IsSequence()) {
      Expected<ListenSpec> spec = ReadListen(node, path);
      if (!spec) return spec.error();
      specs.push_back(*spec);
      return specs;
    }
    if (node.size() == 0) {
      return Fail(node, path, "expected at least one ADDR:PORT[/tcp|udp], got an empty list");
    }
    for (std::size_t i = 0; i < node.size(); ++i) {
      Expected<ListenSpec> spec = ReadListen(node[i], path + "[" + std::to_string(i) + "]");
      if (!spec) return spec.error();
      specs.push_back(*spec);
    }
    return specs;
  }

  Expected<OwnerPattern> ReadOwner(const YAML::Node& node, const std::string& path) const {
    if (std::optional<Error> error =
            CheckKeys(node, path, {"process", "exe", "service", "user", "kind", "container", "unit"},
                      "a mapping with any of process, exe, service, user, kind, container, unit")) {
      return *error;
    }
    OwnerPattern owner;
    for (auto [key, field] :
         {std::pair{"process", &owner.process}, std::pair{"exe", &owner.exe},
          std::pair{"service", &owner.service}, std::pair{"user", &owner.user},
          std::pair{"container", &owner.container}, std::pair{"unit", &owner.unit}}) {
      if (!node[key]) continue;
      Expected<std::string> pattern = ReadGlob(node[key], path + "." + key);
      if (!pattern) return pattern.error();
      *field = std::move(pattern).value();
    }
    if (const YAML::Node kind = node["kind"]) {
      Expected<std::string> text = ReadString(kind, path + ".kind");
      if (!text) return text.error();
      for (const auto& [name, value] : kKindNames) {
        if (*text == name) owner.kind = value;
      }
      if (!owner.kind) {
        return Fail(kind, path + ".kind",
                    "invalid kind " + Quote(*text) + " (expected process, http.sys or kernel)");
      }
    }
    return owner;
  }

  Expected<Expectation> ReadEntry(const YAML::Node& entry, const std::string& path) const {
    if (std::optional<Error> error =
            CheckKeys(entry, path, {"name", "listen", "owner", "exclusive", "netns"},
                      "a mapping with name, listen and owner or exclusive")) {
      return *error;
    }
    Expectation expectation;
    expectation.source = Where(entry);

    if (!entry["name"]) return Fail(entry, path, "missing required key \"name\"");
    Expected<std::string> name = ReadString(entry["name"], path + ".name");
    if (!name) return name.error();
    expectation.name = std::move(name).value();

    if (!entry["listen"]) return Fail(entry, path, "missing required key \"listen\"");
    Expected<std::vector<ListenSpec>> listen = ReadListenList(entry["listen"], path + ".listen");
    if (!listen) return listen.error();
    expectation.listen = std::move(listen).value();

    if (const YAML::Node owner_node = entry["owner"]) {
      Expected<OwnerPattern> owner = ReadOwner(owner_node, path + ".owner");
      if (!owner) return owner.error();
      expectation.owner = std::move(owner).value();
    }

    if (const YAML::Node exclusive = entry["exclusive"]) {
      const std::string text = exclusive.IsScalar() ? exclusive.Scalar() : "";
      if (text == "true" || text == "True" || text == "TRUE") {
        expectation.exclusive = true;
      } else if (!(text == "false" || text == "False" || text == "FALSE")) {
        return Fail(exclusive, path + ".exclusive",
                    "expected true or false, got " + YamlDescribe(exclusive));
      }
    }

    if (const YAML::Node netns = entry["netns"]) {
      Expected<std::string> text = ReadString(netns, path + ".netns");
      if (!text) return text.error();
      if (text->empty()) {
        return Fail(netns, path + ".netns",
                    "expected host, any, or a network namespace's name or inode");
      }
      expectation.netns = std::move(text).value();
    }

    if (!expectation.owner && !expectation.exclusive) {
      return Fail(entry, path,
                  "expected \"owner\", \"exclusive: true\" or both (this entry checks nothing)");
    }
    return expectation;
  }

};

}  // namespace

std::string ToString(const ListenSpec& spec) {
  std::string address = "*";
  if (!spec.AnyAddress()) address = IsIpv6(spec.address) ? "[" + spec.address + "]" : spec.address;
  return address + ":" + std::to_string(spec.port) + "/" + std::string(ToString(spec.proto));
}

bool OwnerPattern::Matches(const Owner& owner) const {
  const Process& main = owner.main();
  return (!kind || *kind == owner.kind) && (!process || ProcessNameMatches(*process, main.name)) &&
         (!exe || GlobMatch(*exe, main.exe)) &&
         (!service || ServiceMatches(*service, owner.service())) &&
         (!user || GlobMatch(*user, main.user)) &&
         (!container || GlobMatch(*container, main.container)) &&
         (!unit || GlobMatch(*unit, owner.socket_unit) || ServiceMatches(*unit, owner.service()));
}

bool NetnsMatches(std::string_view netns, const Listener& listener) {
  if (netns == "any") return true;
  if (netns == "host") return listener.netns == 0 || listener.netns_name == "host";
  return listener.netns_name == netns ||
         (listener.netns != 0 && std::to_string(listener.netns) == netns);
}

std::string ToString(const OwnerPattern& pattern) {
  std::string text;
  const auto add = [&text](std::string_view key, std::string_view value) {
    text += (text.empty() ? "" : " ") + std::string(key) + "=" + std::string(value);
  };
  if (pattern.process) add("process", *pattern.process);
  if (pattern.exe) add("exe", *pattern.exe);
  if (pattern.service) add("service", *pattern.service);
  if (pattern.user) add("user", *pattern.user);
  if (pattern.kind) add("kind", KindName(*pattern.kind));
  if (pattern.container) add("container", *pattern.container);
  if (pattern.unit) add("unit", *pattern.unit);
  return text.empty() ? "any owner" : text;
}

Expected<std::vector<Expectation>> LoadExpectations(const YAML::Node& expect_node,
                                                    std::string_view file_name) {
  try {
    return Loader(file_name).Load(expect_node);
  } catch (const YAML::Exception& e) {
    return Error{YamlPlace(file_name, e.mark) + ": expect: " + e.msg};
  }
}

}  // namespace portwarden::policy
