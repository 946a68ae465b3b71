#include "collectors/httpsys/netsh_parse.h"

#include "collectors/common/ip_address.h"
#include "collectors/common/text.h"
#include "collectors/httpsys/netsh_text.h"

namespace portwarden::httpsys {
namespace {

using internal::KeyValue;
using internal::TextLine;

// A binding's lines as read: the endpoint value, then every "label : value" after it.
struct RawBinding {
  std::string_view endpoint;
  std::vector<KeyValue> fields;
};

// host:port with a port of digits and a host without blanks: the shape that starts a binding.
// The port range and the host are checked later, so a binding with a bad endpoint is counted
// as skipped rather than read as a field of the previous one.
bool IsEndpointShaped(std::string_view value) {
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!IsDigits(value.substr(colon + 1))) return false;
  return value.substr(0, colon).find_first_of(" \t") == std::string_view::npos;
}

// Fills kind, host and port from the endpoint text; false if it is not a valid endpoint.
bool ReadEndpoint(std::string_view endpoint, TlsBinding& binding) {
  binding.endpoint = std::string(endpoint);
  if (IsDigits(endpoint)) {
    std::optional<uint16_t> port = ParsePort(endpoint);
    if (!port) return false;
    binding.kind = TlsBindingKind::kCcs;
    binding.port = *port;
    return true;
  }
  size_t colon = endpoint.rfind(':');
  std::string_view host = endpoint.substr(0, colon);
  std::optional<uint16_t> port = ParsePort(endpoint.substr(colon + 1));
  if (!port) return false;
  binding.port = *port;
  if (host.starts_with("[")) {
    std::optional<IpAddress> address = ParseIpAddress(host);
    if (!address || !address->v6) return false;
    binding.kind = TlsBindingKind::kIpPort;
    binding.host = internal::ToLowerAscii(host.substr(1, host.size() - 2));
    return true;
  }
  if (ParseIpAddress(host)) {
    binding.kind = TlsBindingKind::kIpPort;
    binding.host = std::string(host);
    return true;
  }
  // SNI bindings may use a wildcard name ("*.contoso.com:443") on newer Windows.
  std::string_view name = host.starts_with("*.") ? host.substr(2) : host;
  if (!internal::IsHostName(name)) return false;
  binding.kind = TlsBindingKind::kHostnamePort;
  binding.host = internal::ToLowerAscii(host);
  return true;
}

// Builds a binding; nullopt if it is malformed or cut short (no hash where one is due, no
// application ID).
std::optional<TlsBinding> ReadBinding(const RawBinding& raw) {
  TlsBinding binding;
  if (!ReadEndpoint(raw.endpoint, binding)) return std::nullopt;

  // netsh prints HTTP_SERVICE_CONFIG_SSL_PARAM in struct order: hash, app ID, store name,
  // then the check modes and flags. Hash and app ID are found by shape; the store is the
  // field right after the app ID.
  size_t hash_index = raw.fields.size();
  size_t app_id_index = raw.fields.size();
  for (size_t i = 0; i < raw.fields.size(); ++i) {
    std::string_view value = raw.fields[i].value;
    if (hash_index == raw.fields.size() && internal::IsHex(value, 40)) {
      hash_index = i;
    } else if (app_id_index == raw.fields.size() && internal::IsBracedGuid(value)) {
      app_id_index = i;
    }
  }
  if (app_id_index == raw.fields.size()) return std::nullopt;
  if (hash_index == raw.fields.size() && binding.kind != TlsBindingKind::kCcs) return std::nullopt;

  size_t store_index = app_id_index + 1;
  for (size_t i = 0; i < raw.fields.size(); ++i) {
    const KeyValue& field = raw.fields[i];
    if (i == hash_index) {
      binding.cert_hash = internal::ToLowerAscii(field.value);
    } else if (i == app_id_index) {
      binding.app_id = std::string(field.value);
    } else if (i == store_index) {
      if (field.value != "(null)") binding.store = std::string(field.value);
    } else {
      binding.options.push_back({std::string(field.key), std::string(field.value)});
    }
  }
  return binding;
}

}  // namespace

Expected<SslCertList> ParseSslCert(std::string_view text) {
  constexpr std::string_view kCommand = "netsh http show sslcert";
  if (std::optional<Error> error = internal::CheckText(text, kCommand)) return *error;
  std::vector<TextLine> lines = internal::SplitLines(text);

  std::vector<RawBinding> raw;
  bool saw_separator = false;
  bool paragraph_start = true;
  for (const TextLine& line : lines) {
    if (line.blank() || internal::IsSeparator(line.content)) {
      saw_separator = saw_separator || !line.blank();
      paragraph_start = true;
      continue;
    }
    std::optional<KeyValue> kv = internal::SplitKeyValue(line.content);
    bool first_in_paragraph = paragraph_start;
    paragraph_start = false;
    if (!kv) continue;
    // A bare port starts a binding (CCS) only first in its paragraph: deeper in a binding,
    // numeric values ("Revocation Freshness Time : 0") are fields.
    bool starts_binding =
        IsEndpointShaped(kv->value) || (first_in_paragraph && IsDigits(kv->value));
    if (starts_binding) {
      raw.push_back(RawBinding{kv->value, {}});
    } else if (!raw.empty()) {
      raw.back().fields.push_back(*kv);
    }
  }

  SslCertList list;
  for (const RawBinding& r : raw) {
    if (std::optional<TlsBinding> binding = ReadBinding(r)) {
      list.bindings.push_back(std::move(*binding));
    } else {
      ++list.skipped;
    }
  }
  if (!saw_separator && raw.empty()) {
    return internal::Unrecognized(
        kCommand, "a binding line whose value is address:port, hostname:port or a port", lines);
  }
  return list;
}

}  // namespace portwarden::httpsys
