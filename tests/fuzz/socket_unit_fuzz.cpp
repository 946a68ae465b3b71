// .socket unit files: whatever the text, every listen has a port, a canonical address or
// none, and the service is a .service unit named after the unit unless Service= said so.
#include <optional>
#include <string>
#include <vector>

#include "collectors/common/ip_address.h"
#include "collectors/listeners/address.h"
#include "collectors/listeners/socket_units.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portwarden;
  const std::string_view text = fuzz::AsText(data, size);
  // The text, and the same text split into a unit file and a drop-in at its middle line.
  const size_t middle = text.find('\n', text.size() / 2);
  std::vector<std::string> split = {std::string(text.substr(0, middle)),
                                    middle == std::string_view::npos
                                        ? std::string()
                                        : std::string(text.substr(middle + 1))};
  for (const auto& texts : {std::vector<std::string>{std::string(text)}, split}) {
    SocketUnit u = ParseSocketUnit("fuzz.socket", texts);
    PORTWARDEN_FUZZ_CHECK(u.name == "fuzz.socket" && u.service.ends_with(".service"));
    PORTWARDEN_FUZZ_CHECK(!u.accept || u.service == "fuzz@.service");
    PORTWARDEN_FUZZ_CHECK(u.accept || u.service == "fuzz.service" ||
                          text.find("Service=") != std::string_view::npos);
    for (const SocketUnitListen& l : u.listens) {
      PORTWARDEN_FUZZ_CHECK(l.port != 0);
      if (l.address.empty()) continue;
      std::optional<IpAddress> ip = ParseIpAddress(l.address);
      PORTWARDEN_FUZZ_CHECK(ip.has_value());
      PORTWARDEN_FUZZ_CHECK(l.address == (ip->v6 ? FormatIpv6(ip->bytes.data())
                                                 : FormatIpv4(ip->bytes.data())));
    }
  }
  return 0;
}
