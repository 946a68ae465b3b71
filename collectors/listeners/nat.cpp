#include "collectors/listeners/nat.h"

#include <array>
#include <cstring>
#include <optional>
#include <string_view>

#include "collectors/listeners/address.h"
#include "collectors/listeners/netlink.h"

namespace portwarden {
namespace {

// include/uapi/linux/netfilter/nfnetlink.h and nf_tables.h, mirrored.
constexpr uint16_t kSubsysNftables = 10;  // NFNL_SUBSYS_NFTABLES
constexpr uint16_t kMsgNewRule = 6;       // NFT_MSG_NEWRULE
constexpr uint16_t kMsgGetRule = 7;       // NFT_MSG_GETRULE
constexpr uint16_t kMsgNewGen = 15;       // NFT_MSG_NEWGEN
constexpr uint16_t kMsgGetGen = 16;       // NFT_MSG_GETGEN
constexpr uint16_t Type(uint16_t msg) { return uint16_t(kSubsysNftables << 8) | msg; }

struct NfGenMsg {  // struct nfgenmsg
  uint8_t family;
  uint8_t version;
  uint16_t res_id;
};
static_assert(sizeof(NfGenMsg) == 4);

constexpr uint8_t kNfprotoInet = 1, kNfprotoIpv4 = 2, kNfprotoIpv6 = 10;
constexpr uint16_t kAttrTypeMask = 0x3fff;  // NLA_TYPE_MASK: without NLA_F_NESTED/BYTEORDER

constexpr uint16_t kRuleExpressions = 4;  // NFTA_RULE_EXPRESSIONS
constexpr uint16_t kListElem = 1;         // NFTA_LIST_ELEM
constexpr uint16_t kExprName = 1, kExprData = 2;
constexpr uint16_t kDataValue = 1;  // NFTA_DATA_VALUE
constexpr uint16_t kGenId = 1;      // NFTA_GEN_ID

// What a register holds, as far as a forward is concerned.
enum class Held { kOther, kNfproto, kL4proto, kDport, kDaddr4, kDaddr6, kMasked, kValue };

struct Registers {
  std::array<Held, 16> held{};                  // per 32-bit register
  std::array<std::vector<uint8_t>, 16> value;  // immediate data loaded there
};

// NFT_REG_1..4 are 128 bits wide and overlap NFT_REG32_00..15 (8..23): both as a 32-bit
// register index; nullopt for the verdict register and anything out of range.
std::optional<size_t> Slot(uint32_t reg) {
  if (reg >= 1 && reg <= 4) return size_t(reg - 1) * 4;
  if (reg >= 8 && reg <= 23) return size_t(reg - 8);
  return std::nullopt;
}

uint32_t Be32(std::span<const uint8_t> v) {
  if (v.size() < 4) return 0;
  return uint32_t(v[0]) << 24 | uint32_t(v[1]) << 16 | uint32_t(v[2]) << 8 | v[3];
}
uint16_t Be16(std::span<const uint8_t> v) {
  return v.size() < 2 ? 0 : uint16_t(uint16_t(v[0]) << 8 | v[1]);
}
uint16_t Host16(std::span<const uint8_t> v, size_t at) {
  uint16_t x = 0;
  if (v.size() >= at + 2) std::memcpy(&x, v.data() + at, 2);
  return x;
}
uint32_t Host32(std::span<const uint8_t> v, size_t at) {
  uint32_t x = 0;
  if (v.size() >= at + 4) std::memcpy(&x, v.data() + at, 4);
  return x;
}

// The attributes of one nested set, by type (the last of each type wins).
std::array<std::span<const uint8_t>, 16> Attrs(std::span<const uint8_t> nested) {
  std::array<std::span<const uint8_t>, 16> out{};
  netlink::ForEachAttr(nested, 0, [&](uint16_t type, std::span<const uint8_t> v) {
    type &= kAttrTypeMask;
    if (type < out.size()) out[type] = v;
  });
  return out;
}

// The bytes of an nft_data attribute (NFTA_DATA_VALUE inside).
std::span<const uint8_t> DataValue(std::span<const uint8_t> data) { return Attrs(data)[kDataValue]; }

std::string Address(std::span<const uint8_t> bytes, bool v6) {
  if (v6) return bytes.size() >= 16 ? FormatIpv6(bytes.data()) : std::string();
  return bytes.size() >= 4 ? FormatIpv4(bytes.data()) : std::string();
}

// One rule, run as a straight-line program over its registers.
class Rule {
 public:
  explicit Rule(uint8_t table_family)
      : table_family_(table_family), l3_(table_family == kNfprotoInet ? 0 : table_family) {}

  void Apply(std::string_view name, std::span<const uint8_t> data) {
    auto a = Attrs(data);
    if (name == "meta") {  // NFTA_META_DREG 1, KEY 2: NFT_META_NFPROTO 15, L4PROTO 16
      uint32_t key = Be32(a[2]);
      Held held = key == 15 ? Held::kNfproto : key == 16 ? Held::kL4proto : Held::kOther;
      if (auto s = Slot(Be32(a[1]))) Set(*s, held);
    } else if (name == "payload") {  // DREG 1, BASE 2, OFFSET 3, LEN 4
      if (auto s = Slot(Be32(a[1]))) Set(*s, Payload(Be32(a[2]), Be32(a[3]), Be32(a[4])));
    } else if (name == "immediate") {  // DREG 1, DATA 2
      if (auto s = Slot(Be32(a[1]))) {
        auto v = DataValue(a[2]);
        Set(*s, Held::kValue);
        regs_.value[*s].assign(v.begin(), v.end());
      }
    } else if (name == "bitwise") {  // SREG 1, DREG 2: a masked value is no exact match
      auto src = Slot(Be32(a[1]));
      if (auto s = Slot(Be32(a[2]))) {
        Set(*s, src && Tracked(regs_.held[*src]) ? Held::kMasked : Held::kOther);
      }
    } else if (name == "cmp") {  // SREG 1, OP 2, DATA 3
      if (auto s = Slot(Be32(a[1]))) Compare(regs_.held[*s], Be32(a[2]), DataValue(a[3]));
    } else if (name == "lookup" || name == "range") {  // SREG 1 both: a set or a range
      if (auto s = Slot(Be32(a[1])); s && Tracked(regs_.held[*s])) dropped_ = true;
    } else if (name == "nat") {  // TYPE 1, FAMILY 2, REG_ADDR_MIN 3, REG_PROTO_MIN 5
      if (Be32(a[1]) != 1) return;  // NFT_NAT_DNAT
      const bool v6 = Be32(a[2]) == kNfprotoIpv6;
      auto addr = Slot(Be32(a[3]));
      if (!addr || regs_.held[*addr] != Held::kValue) return;
      to_address_ = Address(regs_.value[*addr], v6);
      to_v6_ = v6;
      auto port = Slot(Be32(a[5]));
      to_port_ = port && regs_.held[*port] == Held::kValue ? Be16(regs_.value[*port]) : 0;
      nat_ = !to_address_.empty();
    } else if (name == "match") {  // NAME 1, REV 2, INFO 3 (xt_tcp / xt_udp, host order)
      CompatMatch(StringAttr(a[1]), a[3]);
    } else if (name == "target") {
      CompatTarget(StringAttr(a[1]), Be32(a[2]), a[3]);
    }
  }

  std::optional<NatForward> Result() const {
    if (dropped_ || !nat_ || !proto_ || port_ == 0) return std::nullopt;
    if (!address_.empty() && address_v6_ != to_v6_) return std::nullopt;
    NatForward f;
    f.proto = *proto_;
    f.family = to_v6_ ? Family::kIpv6 : Family::kIpv4;
    f.address = address_;
    f.port = port_;
    f.to_address = to_address_;
    f.to_port = to_port_ != 0 ? to_port_ : port_;
    return f;
  }

 private:
  // What a payload load reads: the transport header's destination port, or the network
  // header's destination address (IPv4 bytes 16-19, IPv6 24-39; of the family the table or
  // a `meta nfproto` match fixes). Part of the address (a prefix: iptables-nft loads only
  // its bytes) is masked.
  Held Payload(uint32_t base, uint32_t offset, uint32_t len) const {
    if (base == 2) return offset == 2 && len == 2 ? Held::kDport : Held::kOther;
    if (base != 1 || l3_ == 0) return Held::kOther;
    const bool v6 = l3_ == kNfprotoIpv6;
    const uint32_t at = v6 ? 24 : 16, size = v6 ? 16 : 4;
    if (offset + len <= at || offset >= at + size) return Held::kOther;
    if (offset == at && len == size) return v6 ? Held::kDaddr6 : Held::kDaddr4;
    return Held::kMasked;
  }

  static bool Tracked(Held h) {
    return h == Held::kL4proto || h == Held::kDport || h == Held::kDaddr4 || h == Held::kDaddr6;
  }
  static std::string_view StringAttr(std::span<const uint8_t> v) {
    std::string_view s(reinterpret_cast<const char*>(v.data()), v.size());
    return s.substr(0, s.find('\0'));
  }
  void Set(size_t slot, Held held) {
    regs_.held[slot] = held;
    regs_.value[slot].clear();
  }
  void SetProto(uint8_t number) {
    if (number == 6) {
      proto_ = Proto::kTcp;
    } else if (number == 17) {
      proto_ = Proto::kUdp;
    } else {
      dropped_ = true;  // SCTP, DCCP: not a proto portwarden reports
    }
  }

  void Compare(Held held, uint32_t op, std::span<const uint8_t> v) {
    if (held == Held::kMasked) {
      dropped_ = true;
      return;
    }
    if (held == Held::kNfproto && op == 0 && !v.empty()) l3_ = v[0];
    if (!Tracked(held)) return;
    if (op != 0) {  // NFT_CMP_EQ: anything else (!=, <, >) is no single value
      dropped_ = true;
      return;
    }
    switch (held) {
      case Held::kL4proto:
        if (!v.empty()) SetProto(v[0]);
        break;
      case Held::kDport:
        port_ = Be16(v);
        break;
      case Held::kDaddr4:
      case Held::kDaddr6:
        address_v6_ = held == Held::kDaddr6;
        address_ = Address(v, address_v6_);
        break;
      default:
        break;
    }
  }

  // struct xt_tcp / xt_udp: spts[2], dpts[2] (u16), then tcp: option, flg_mask, flg_cmp,
  // invflags; udp: invflags. XT_TCP_INV_DSTPT = XT_UDP_INV_DSTPT = 0x02.
  void CompatMatch(std::string_view name, std::span<const uint8_t> info) {
    if (name != "tcp" && name != "udp") return;
    const bool tcp = name == "tcp";
    if (info.size() < (tcp ? 12u : 9u)) return;
    SetProto(tcp ? 6 : 17);
    uint16_t lo = Host16(info, 4), hi = Host16(info, 6);
    uint8_t inv = info[tcp ? 11 : 8];
    if (lo == 0 && hi == 0xffff) return;  // any destination port
    if ((inv & 0x02) != 0 || lo != hi) {
      dropped_ = true;
      return;
    }
    port_ = lo;
  }

  // DNAT: revision 0 is struct nf_nat_ipv4_multi_range_compat (rangesize, then flags,
  // min_ip, max_ip, min and max proto); 1 and 2 are nf_nat_range(2) (flags, min_addr[16],
  // max_addr[16], min_proto, max_proto). Flags: NF_NAT_RANGE_MAP_IPS 1, PROTO_SPECIFIED 2.
  void CompatTarget(std::string_view name, uint32_t rev, std::span<const uint8_t> info) {
    if (name != "DNAT") return;
    const bool v6 = table_family_ == kNfprotoIpv6;
    size_t flags_at = rev == 0 ? 4 : 0, addr_at = rev == 0 ? 8 : 4, proto_at = rev == 0 ? 16 : 36;
    if (info.size() < proto_at + 2 || (rev == 0 && v6)) return;
    uint32_t flags = Host32(info, flags_at);
    if ((flags & 1) == 0) return;  // only the port: not where it goes
    to_address_ = Address(info.subspan(addr_at), v6);
    to_v6_ = v6;
    to_port_ = (flags & 2) != 0 ? Be16(info.subspan(proto_at)) : 0;
    nat_ = !to_address_.empty();
  }

  uint8_t table_family_;
  uint8_t l3_;  // the network header's family: the table's, or an inet rule's nfproto match
  Registers regs_;
  std::optional<Proto> proto_;
  uint16_t port_ = 0;
  std::string address_;
  bool address_v6_ = false;
  bool dropped_ = false;
  bool nat_ = false;
  std::string to_address_;
  bool to_v6_ = false;
  uint16_t to_port_ = 0;
};

}  // namespace

// Both ask every family (AF_UNSPEC) in NFNETLINK_V0: an all-zero nfgenmsg.
std::vector<uint8_t> BuildNftGenRequest(uint32_t seq) {
  return netlink::Request(Type(kMsgGetGen), netlink::kFlagRequest, seq, NfGenMsg{});
}

std::vector<uint8_t> BuildNftRuleRequest(uint32_t seq) {
  return netlink::DumpRequest(Type(kMsgGetRule), seq, NfGenMsg{});
}

Expected<uint32_t> DecodeNftGen(std::span<const uint8_t> datagram) {
  std::optional<uint32_t> id;
  auto walked = netlink::Walk(datagram, "nf_tables",
                              [&](uint16_t type, std::span<const uint8_t> m) -> Expected<netlink::Next> {
                                if (type != Type(kMsgNewGen) || m.size() < sizeof(NfGenMsg)) {
                                  return netlink::Next::kContinue;
                                }
                                auto v = Attrs(m.subspan(sizeof(NfGenMsg)))[kGenId];
                                if (v.size() >= 4) id = Be32(v);
                                return netlink::Next::kStop;
                              });
  if (!walked) return walked.error();
  if (!id) return Error{"nf_tables: no generation ID in the reply"};
  return *id;
}

Expected<NftRuleBatch> DecodeNftRuleDump(std::span<const uint8_t> datagram) {
  NftRuleBatch batch;
  auto done = netlink::WalkDump(
      datagram, Type(kMsgNewRule), [&](std::span<const uint8_t> m) -> Expected<netlink::Next> {
        if (m.size() < sizeof(NfGenMsg)) return Error{"nf_tables: rule message without header"};
        ++batch.rules;
        const uint8_t family = m[0];
        if (family != kNfprotoIpv4 && family != kNfprotoIpv6 && family != kNfprotoInet) {
          return netlink::Next::kContinue;  // bridge, arp, netdev: no host port
        }
        Rule rule(family);
        auto exprs = Attrs(m.subspan(sizeof(NfGenMsg)))[kRuleExpressions];
        netlink::ForEachAttr(exprs, 0, [&](uint16_t type, std::span<const uint8_t> elem) {
          if ((type & kAttrTypeMask) != kListElem) return;
          auto e = Attrs(elem);
          std::string_view name(reinterpret_cast<const char*>(e[kExprName].data()),
                                e[kExprName].size());
          rule.Apply(name.substr(0, name.find('\0')), e[kExprData]);
        });
        if (auto f = rule.Result()) batch.forwards.push_back(std::move(*f));
        return netlink::Next::kContinue;
      });
  if (!done) return done.error();
  batch.done = *done;
  return batch;
}

}  // namespace portwarden
