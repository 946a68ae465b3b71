#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "collectors/common/expected.h"
#include "collectors/listeners/listener.h"

namespace portwarden {

/// A port published by destination NAT alone, with no socket on the host (Docker with
/// userland-proxy off, podman's netavark and CNI portmap, a hand-written `dnat to`): a rule
/// of a namespace's nf_tables that matches proto and destination port (and maybe address)
/// and rewrites the destination to to_address:to_port.
struct NatForward {
  Proto proto = Proto::kTcp;
  Family family = Family::kIpv4;
  std::string address;  ///< the destination address the rule matches; empty: any
  uint16_t port = 0;
  std::string to_address;
  uint16_t to_port = 0;
  bool operator==(const NatForward&) const = default;
  auto operator<=>(const NatForward&) const = default;
};

/// An NFT_MSG_GETGEN request: the namespace's ruleset generation, which every change of
/// its rules increments. Pure.
std::vector<uint8_t> BuildNftGenRequest(uint32_t seq);

/// The generation ID from the reply to BuildNftGenRequest (NFT_MSG_NEWGEN, NFTA_GEN_ID).
/// A kernel error (EPERM without CAP_NET_ADMIN), a truncated message or a reply without
/// the ID is an error. Pure.
Expected<uint32_t> DecodeNftGen(std::span<const uint8_t> datagram);

/// An NFT_MSG_GETRULE dump request for every rule of every table and family. Pure.
std::vector<uint8_t> BuildNftRuleRequest(uint32_t seq);

/// The forwards decoded from one recv() of a BuildNftRuleRequest dump.
struct NftRuleBatch {
  std::vector<NatForward> forwards;
  size_t rules = 0;   ///< rules seen (NFT_MSG_NEWRULE messages)
  bool done = false;  ///< NLMSG_DONE seen
};

/// Decodes one datagram of the rule dump (include/uapi/linux/netfilter/nf_tables.h). Each
/// rule is read as the straight-line program it is: registers loaded by `meta l4proto`,
/// `payload` (transport header bytes 2-3: the destination port; network header: the IPv4
/// or IPv6 destination address) and `immediate`, compared for equality by `cmp`, then a
/// `nat` expression of type DNAT reading its address and port from registers; or the
/// xtables compat forms iptables-nft writes (`match` tcp/udp with one destination port,
/// `target` DNAT revisions 0-2). A rule yields a forward when it fixes proto and port and
/// rewrites the address. Left out (not a host port, or not knowable from the rule alone):
/// rules without a port, with port sets or maps (lookup), with negated or masked matches
/// on what is compared, and DNAT in chains reached through jumps whose conditions are in
/// other rules. A message or attribute that overruns the datagram is an error. Pure.
Expected<NftRuleBatch> DecodeNftRuleDump(std::span<const uint8_t> datagram);

}  // namespace portwarden
