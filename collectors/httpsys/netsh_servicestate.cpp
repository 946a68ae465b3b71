#include "collectors/httpsys/netsh_parse.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "collectors/common/text.h"
#include "collectors/httpsys/netsh_text.h"

// `netsh http show servicestate` prints a tree by indentation. Both views hold the same
// objects: server sessions and URL groups (keyed by a 16-hex-digit ID) and request queues
// (keyed by name). They are told apart by shape, since every label is localized:
//  - a request queue has a name that is not a hex ID and a "Version: n.n" child;
//  - a server session has a hex ID and a version child; a URL group has a hex ID and none;
//  - a process list is an empty-valued child whose entries are bare PIDs (older builds) or
//    "ID: <pid>, image: <path>" (newer), the latter followed by service-name lines;
//  - a registered URL is a line starting with http:// or https://.

namespace portwarden::httpsys {
namespace {

using internal::KeyValue;
using internal::TextLine;

constexpr size_t kNoNode = std::numeric_limits<size_t>::max();

struct Node {
  size_t indent = 0;
  std::string_view content;
  std::optional<KeyValue> kv;
  size_t parent = kNoNode;
  std::vector<size_t> children;
  bool url = false;        // a registered-URL line
  bool url_valid = false;  // ... that ParseHttpSysUrl accepts
};

class Tree {
 public:
  explicit Tree(const std::vector<TextLine>& lines) {
    std::vector<size_t> open;  // the chain of ancestors of the next line
    for (const TextLine& line : lines) {
      if (line.blank()) continue;
      while (!open.empty() && nodes_[open.back()].indent >= line.indent) open.pop_back();
      Node node;
      node.indent = line.indent;
      node.content = line.content;
      node.kv = internal::SplitKeyValue(line.content);
      node.parent = open.empty() ? kNoNode : open.back();
      node.url = internal::HasHttpScheme(line.content);
      node.url_valid = node.url && ParseHttpSysUrl(line.content).ok();
      size_t index = nodes_.size();
      nodes_.push_back(std::move(node));
      if (nodes_[index].parent != kNoNode) nodes_[nodes_[index].parent].children.push_back(index);
      open.push_back(index);
    }
  }

  size_t size() const { return nodes_.size(); }
  const Node& operator[](size_t i) const { return nodes_[i]; }

  std::string_view Value(size_t i) const {
    return nodes_[i].kv ? nodes_[i].kv->value : std::string_view();
  }

  // Valid registered URLs under node `root`, in document order, without duplicates.
  // Iterative, so a hostile nesting depth cannot exhaust the stack.
  std::vector<std::string> UrlsUnder(size_t root) const {
    std::vector<std::string> urls;
    std::set<std::string_view> seen;
    std::vector<size_t> pending(nodes_[root].children.rbegin(), nodes_[root].children.rend());
    while (!pending.empty()) {
      size_t i = pending.back();
      pending.pop_back();
      const Node& node = nodes_[i];
      if (node.url_valid && seen.insert(node.content).second) urls.emplace_back(node.content);
      pending.insert(pending.end(), node.children.rbegin(), node.children.rend());
    }
    return urls;
  }

 private:
  std::vector<Node> nodes_;
};

bool IsVersion(std::string_view value) {
  size_t dot = value.find('.');
  return dot != std::string_view::npos && IsDigits(value.substr(0, dot)) &&
         IsDigits(value.substr(dot + 1));
}

bool IsHexId(std::string_view value) { return internal::IsHex(value, 16); }

// The unnamed-queue placeholder is a sentence ("Request queue is unnamed."), localized; queue
// names are IIS app pool or service names, which do not end in a period after a blank-
// separated phrase.
bool IsUnnamedPlaceholder(std::string_view value) {
  return value.ends_with(".") && value.find(' ') != std::string_view::npos;
}

std::string QueueName(std::string_view value) {
  return IsUnnamedPlaceholder(value) ? std::string() : std::string(value);
}

std::string_view VersionOf(const Tree& tree, size_t i) {
  for (size_t child : tree[i].children) {
    if (IsVersion(tree.Value(child))) return tree.Value(child);
  }
  return {};
}

// A process entry: a bare PID line, or "label: <pid>, label: <image>".
bool IsProcessEntry(const Tree& tree, size_t i) {
  const Node& node = tree[i];
  if (!node.kv) return IsDigits(node.content);
  std::string_view value = node.kv->value;
  return !value.empty() && value.front() >= '0' && value.front() <= '9';
}

// The process-list heading among a queue's children: the first empty-valued one that is
// empty (no process attached) or whose first entry is a process.
size_t FindProcessList(const Tree& tree, size_t queue) {
  for (size_t child : tree[queue].children) {
    if (!tree[child].kv || !tree.Value(child).empty()) continue;
    const std::vector<size_t>& entries = tree[child].children;
    if (entries.empty() || IsProcessEntry(tree, entries.front())) return child;
  }
  return kNoNode;
}

bool IsQueue(const Tree& tree, size_t i) {
  std::string_view value = tree.Value(i);
  if (value.empty() || IsHexId(value) || tree[i].url) return false;
  if (!VersionOf(tree, i).empty()) return true;
  size_t list = FindProcessList(tree, i);
  return list != kNoNode && !tree[list].children.empty();
}

void AddServices(std::string_view value, QueueProcess& process) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view name = internal::Trim(value.substr(0, comma));
    value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    if (name.empty()) continue;
    if (std::find(process.services.begin(), process.services.end(), name) ==
        process.services.end()) {
      process.services.emplace_back(name);
    }
  }
}

// Reads one process entry; nullopt if its PID is not a 32-bit number.
std::optional<QueueProcess> ReadProcess(const Tree& tree, size_t i) {
  std::string_view text = tree[i].kv ? tree[i].kv->value : tree[i].content;
  size_t comma = text.find(',');
  std::optional<uint32_t> pid = ParseU32(internal::Trim(text.substr(0, comma)));
  if (!pid) return std::nullopt;
  QueueProcess process;
  process.pid = *pid;
  if (comma != std::string_view::npos) {
    std::string_view rest = text.substr(comma + 1);
    std::optional<KeyValue> image = internal::SplitKeyValue(rest);
    std::string_view path = image ? image->value : internal::Trim(rest);
    if (path != "<?>") process.image = std::string(path);
  }
  // Service lines may also be nested under the entry rather than follow it.
  for (size_t child : tree[i].children) AddServices(tree.Value(child), process);
  return process;
}

struct QueueRead {
  RequestQueue queue;
  int skipped = 0;
};

QueueRead ReadQueue(const Tree& tree, size_t i) {
  QueueRead read;
  RequestQueue& queue = read.queue;
  queue.name = QueueName(tree.Value(i));
  queue.version = std::string(VersionOf(tree, i));

  size_t list = FindProcessList(tree, i);
  uint32_t entries = 0;
  if (list != kNoNode) {
    bool have_current = false;
    for (size_t entry : tree[list].children) {
      if (IsProcessEntry(tree, entry)) {
        ++entries;
        std::optional<QueueProcess> process = ReadProcess(tree, entry);
        have_current = process.has_value();
        if (process) {
          queue.processes.push_back(std::move(*process));
        } else {
          ++read.skipped;
        }
      } else if (have_current && tree[entry].kv) {
        // "Services: a, b" and "Tagged Service: a" describe the entry above; the tagged
        // service is one of the hosted ones, so both go to `services`.
        AddServices(tree.Value(entry), queue.processes.back());
      }
    }

    // The controller line has no distinctive value, but a fixed place: right after the
    // count of attached processes and right before the process list. So when the two lines
    // before the list are numbers and the first equals the number of entries, the second
    // is the controller PID.
    const std::vector<size_t>& children = tree[i].children;
    size_t at =
        static_cast<size_t>(std::find(children.begin(), children.end(), list) - children.begin());
    if (at >= 2) {
      std::optional<uint32_t> count = ParseU32(tree.Value(children[at - 2]));
      std::optional<uint32_t> controller = ParseU32(tree.Value(children[at - 1]));
      if (count && controller && *count == entries && *controller != entries) {
        queue.controller_pid = *controller;
      }
    }
  }
  queue.urls = tree.UrlsUnder(i);
  return read;
}

// The queue a URL group routes to: the enclosing queue in the request-queue view, else the
// child whose value is the name of a listed queue (the session view). `queue_names` maps each
// queue node to its name as printed, `printed` holds those names.
std::optional<std::string> GroupQueue(const Tree& tree, size_t group,
                                      const std::map<size_t, std::string_view>& queue_names,
                                      const std::set<std::string_view>& printed) {
  for (size_t up = tree[group].parent; up != kNoNode; up = tree[up].parent) {
    auto it = queue_names.find(up);
    if (it != queue_names.end()) return QueueName(it->second);
  }
  for (size_t child : tree[group].children) {
    if (tree[child].kv && printed.contains(tree.Value(child))) {
      return QueueName(tree.Value(child));
    }
  }
  return std::nullopt;
}

// The session view of older builds lists URLs only under URL groups. A named queue takes the
// URLs of the groups naming it; the unnamed groups' URLs not listed elsewhere go to the
// unnamed queue lacking URLs, when exactly one does (else they cannot be told apart).
void FillUrlsFromGroups(ServiceState& state) {
  std::vector<RequestQueue*> bare_unnamed;
  for (RequestQueue& queue : state.queues) {
    if (!queue.urls.empty()) continue;
    if (queue.name.empty()) {
      bare_unnamed.push_back(&queue);
      continue;
    }
    for (const UrlGroup& group : state.url_groups) {
      if (group.request_queue != queue.name) continue;
      for (const std::string& url : group.urls) {
        if (std::find(queue.urls.begin(), queue.urls.end(), url) == queue.urls.end()) {
          queue.urls.push_back(url);
        }
      }
    }
    queue.urls_from_groups = !queue.urls.empty();
  }
  if (bare_unnamed.size() != 1) return;

  std::set<std::string> listed;
  for (const RequestQueue& queue : state.queues) {
    listed.insert(queue.urls.begin(), queue.urls.end());
  }
  RequestQueue& target = *bare_unnamed.front();
  for (const UrlGroup& group : state.url_groups) {
    if (group.request_queue != std::string()) continue;
    for (const std::string& url : group.urls) {
      if (listed.insert(url).second) target.urls.push_back(url);
    }
  }
  target.urls_from_groups = !target.urls.empty();
}

}  // namespace

Expected<ServiceState> ParseServiceState(std::string_view text) {
  constexpr std::string_view kCommand = "netsh http show servicestate";
  if (std::optional<Error> error = internal::CheckText(text, kCommand)) return *error;
  std::vector<TextLine> lines = internal::SplitLines(text);
  Tree tree(lines);

  ServiceState state;
  bool saw_separator = false;
  std::map<size_t, std::string_view> queue_names;
  for (size_t i = 0; i < tree.size(); ++i) {
    if (internal::IsSeparator(tree[i].content)) saw_separator = true;
    if (tree[i].url && !tree[i].url_valid) ++state.skipped;
    if (IsQueue(tree, i)) queue_names.emplace(i, tree.Value(i));
  }
  std::set<std::string_view> printed;
  for (const auto& [i, name] : queue_names) {
    printed.insert(name);
    QueueRead read = ReadQueue(tree, i);
    state.queues.push_back(std::move(read.queue));
    state.skipped += read.skipped;
  }
  for (size_t i = 0; i < tree.size(); ++i) {
    if (!IsHexId(tree.Value(i)) || !VersionOf(tree, i).empty()) continue;
    UrlGroup group;
    group.id = std::string(tree.Value(i));
    group.request_queue = GroupQueue(tree, i, queue_names, printed);
    group.urls = tree.UrlsUnder(i);
    state.url_groups.push_back(std::move(group));
  }
  FillUrlsFromGroups(state);

  if (!saw_separator && state.queues.empty() && state.url_groups.empty()) {
    return internal::Unrecognized(
        kCommand, "request queues (a name with a \"n.n\" version line) or URL groups", lines);
  }
  return state;
}

}  // namespace portwarden::httpsys
