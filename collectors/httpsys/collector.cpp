#include "collectors/httpsys/collector.h"

#include <algorithm>
#include <set>
#include <utility>

#include "collectors/httpsys/bytes.h"
#include "collectors/httpsys/http_config.h"
#include "collectors/httpsys/netsh_parse.h"
#include "collectors/httpsys/registry.h"

namespace portwarden::httpsys {
namespace {

constexpr std::string_view kServiceStateArguments = "http show servicestate view=requestq";

/// Runs one sub-collector, timing it and recording its outcome.
template <typename Fn>
void Run(HttpSysCollection& out, std::string_view name, Fn fn) {
  auto start = std::chrono::steady_clock::now();
  std::optional<Error> error = fn();
  SubCollectorStatus status;
  status.name = std::string(name);
  status.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  status.success = !error;
  if (error) status.error = std::move(error->message);
  out.statuses.push_back(std::move(status));
}

void CountSkipped(HttpSysState& state, std::string_view collector, int skipped) {
  if (skipped > 0) state.skipped[std::string(collector)] += skipped;
}

/// Fills in the account name of every principal whose SID resolves; one lookup per SID.
void ResolveAccounts(HttpSysPlatform& platform, std::vector<UrlReservation>& reservations) {
  std::map<std::string, std::string> accounts;
  for (UrlReservation& r : reservations) {
    for (UrlAclPrincipal& p : r.principals) {
      if (!p.account.empty() || p.sid.empty()) continue;
      auto it = accounts.find(p.sid);
      if (it == accounts.end()) it = accounts.emplace(p.sid, platform.AccountName(p.sid)).first;
      p.account = it->second;
    }
  }
}

/// Runs netsh; a failure to run it (not started, timed out) names the command.
Expected<CommandOutput> Netsh(HttpSysPlatform& platform, std::string_view arguments,
                              const HttpSysOptions& options) {
  auto output = platform.RunNetsh(arguments, options.netsh_timeout);
  if (!output) return Error{"netsh " + std::string(arguments) + ": " + output.error().message};
  return output;
}

/// Parses netsh's output whatever its exit code: a readable listing counts even after a
/// non-zero exit, and an unreadable one is reported with the exit code.
template <typename T>
Expected<T> ParseNetsh(const CommandOutput& output, std::string_view arguments,
                       Expected<T> (*parse)(std::string_view)) {
  Expected<T> parsed = parse(output.text);
  if (parsed) return parsed;
  std::string message = "netsh " + std::string(arguments);
  if (output.exit_code != 0) message += " exited with code " + std::to_string(output.exit_code);
  return Error{message + ": " + parsed.error().message};
}

}  // namespace

HttpSysCollection CollectHttpSys(HttpSysPlatform& platform, const HttpSysOptions& options) {
  HttpSysCollection out;
  HttpSysState& state = out.state;
  state.collected = true;

  // HTTP Server API. One HttpInitialize serves the three queries; when it fails, each of
  // them reports that failure.
  std::optional<Error> init_error;
  const uint32_t init = platform.HttpInitializeConfig();
  if (init != kErrorSuccess) {
    init_error = Error{"HttpInitialize(HTTP_INITIALIZE_CONFIG) failed: " + internal::HexCode(init)};
  }
  Run(out, kIpListenCollector, [&]() -> std::optional<Error> {
    if (init_error) return init_error;
    auto list = QueryIpListen(platform);
    if (!list) return list.error();
    state.iplisten_api = std::move(*list);
    return std::nullopt;
  });
  Run(out, kUrlAclCollector, [&]() -> std::optional<Error> {
    if (init_error) return init_error;
    auto acls = QueryUrlAcls(platform);
    if (!acls) return acls.error();
    ResolveAccounts(platform, acls->reservations);
    CountSkipped(state, kUrlAclCollector, acls->skipped);
    state.urlacls = std::move(acls->reservations);
    state.urlacl_source = "api";
    return std::nullopt;
  });
  Run(out, kSslCertCollector, [&]() -> std::optional<Error> {
    if (init_error) return init_error;
    auto tls = QueryTlsBindings(platform);
    if (!tls) return tls.error();
    for (TlsBinding& b : tls->bindings) {
      // HTTP.sys looks the certificate up in MY when the binding names no store.
      if (!b.cert_hash.empty()) {
        b.not_after = platform.CertificateNotAfter(b.store.empty() ? "MY" : b.store, b.cert_hash);
      }
    }
    CountSkipped(state, kSslCertCollector, tls->skipped);
    state.tls_bindings = std::move(tls->bindings);
    return std::nullopt;
  });
  if (!init_error) platform.HttpTerminateConfig();

  std::optional<std::vector<UrlReservation>> registry_acls;
  Run(out, kRegistryCollector, [&]() -> std::optional<Error> {
    auto value = platform.ReadRegistryValue(kHttpParametersKey, kListenOnlyListValue);
    if (!value) return value.error();
    std::vector<IpListenEntry> list;  // no value: no list, HTTP.sys binds every address
    if (*value) {
      auto decoded = DecodeListenOnlyList((*value)->type, (*value)->data);
      if (!decoded) return decoded.error();
      CountSkipped(state, kRegistryCollector, decoded->skipped);
      list = std::move(decoded->entries);
    }
    auto values = platform.ReadRegistryValues(kUrlAclInfoKey);
    if (!values) return values.error();
    std::vector<UrlReservation> reservations;
    for (const RegistryValue& v : *values) {
      auto r = DecodeUrlAclValue(v.name, v.type, v.data);
      if (r) {
        reservations.push_back(std::move(*r));
      } else {
        CountSkipped(state, kRegistryCollector, 1);
      }
    }
    state.iplisten_registry = std::move(list);
    registry_acls = std::move(reservations);
    return std::nullopt;
  });
  if (registry_acls) {
    if (state.urlacls) {
      state.urlacl_mismatches = CompareReservations(*state.urlacls, *registry_acls);
    } else {
      ResolveAccounts(platform, *registry_acls);
      state.urlacls = std::move(registry_acls);
      state.urlacl_source = "registry";
    }
  }

  Run(out, kRequestQueueCollector, [&]() -> std::optional<Error> {
    auto output = Netsh(platform, kServiceStateArguments, options);
    if (!output) return output.error();
    auto parsed = ParseNetsh<ServiceState>(*output, kServiceStateArguments, ParseServiceState);
    if (!parsed) return parsed.error();
    CountSkipped(state, kRequestQueueCollector, parsed->skipped);
    std::set<uint32_t> pids;
    for (const RequestQueue& q : parsed->queues) {
      for (const QueueProcess& p : q.processes) pids.insert(p.pid);
      if (q.controller_pid) pids.insert(*q.controller_pid);
    }
    if (!pids.empty()) {
      for (auto& [pid, identity] : platform.Processes()) {
        if (pids.count(pid)) state.queue_processes.emplace(pid, std::move(identity));
      }
    }
    state.queues = std::move(parsed->queues);
    return std::nullopt;
  });

  Run(out, kExcludedPortRangeCollector, [&]() -> std::optional<Error> {
    std::string errors;
    for (Family family : {Family::kIpv4, Family::kIpv6}) {
      for (Proto proto : {Proto::kTcp, Proto::kUdp}) {
        const std::string arguments =
            "int " + std::string(ToString(family)) +
            " show excludedportrange protocol=" + std::string(ToString(proto));
        auto output = Netsh(platform, arguments, options);
        Expected<ExcludedPortRangeList> parsed =
            output ? ParseNetsh<ExcludedPortRangeList>(*output, arguments, ParseExcludedPortRanges)
                   : Expected<ExcludedPortRangeList>(output.error());
        if (!parsed) {
          errors += (errors.empty() ? "" : "; ") + parsed.error().message;
          continue;
        }
        CountSkipped(state, kExcludedPortRangeCollector, parsed->skipped);
        state.excluded_port_ranges.push_back({proto, family, std::move(parsed->ranges)});
      }
    }
    if (errors.empty()) return std::nullopt;
    return Error{errors};
  });
  return out;
}

}  // namespace portwarden::httpsys
