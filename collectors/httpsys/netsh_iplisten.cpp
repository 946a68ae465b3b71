#include "collectors/httpsys/netsh_parse.h"

#include "collectors/common/ip_address.h"
#include "collectors/httpsys/netsh_text.h"

namespace portwarden::httpsys {

using internal::TextLine;

Expected<IpListenList> ParseIpListen(std::string_view text) {
  constexpr std::string_view kCommand = "netsh http show iplisten";
  if (std::optional<Error> error = internal::CheckText(text, kCommand)) return *error;
  std::vector<TextLine> lines = internal::SplitLines(text);

  IpListenList list;
  bool saw_separator = false;
  bool in_listing = false;
  for (const TextLine& line : lines) {
    if (line.blank()) continue;
    if (internal::IsSeparator(line.content)) {
      // A new listing replaces an earlier one: in a paste of show / add / show, the last
      // listing is the state that holds.
      list = IpListenList{};
      saw_separator = true;
      in_listing = true;
      continue;
    }
    if (ParseIpAddress(line.content)) {
      if (in_listing || !saw_separator) list.entries.push_back({std::string(line.content)});
    } else if (in_listing && line.indent > 0) {
      ++list.skipped;
    } else {
      // Unindented prose (a prompt, "IP address successfully added") ends the listing.
      in_listing = false;
    }
  }
  if (!saw_separator && list.entries.empty()) {
    return internal::Unrecognized(kCommand, "a dashed separator line or IP address lines", lines);
  }
  return list;
}

}  // namespace portwarden::httpsys
