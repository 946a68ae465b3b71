#pragma once

#include <string>
#include <vector>

#include "exporter/notifier/alert.h"

namespace portwarden::notifier {

/// The body of Alertmanager's `POST /api/v2/alerts`: a JSON array of postable alerts.
/// Firing alerts get endsAt = now + expiry_seconds (Alertmanager resolves them by itself
/// unless they are sent again before then); resolved ones keep their endsAt.
std::string AlertmanagerPayload(const std::vector<Alert>& alerts, double now,
                                double expiry_seconds);

/// The body Alertmanager's webhook receiver posts (version "4"), for generic receivers: one
/// group holding `alerts`, status "firing" if any of them fires, common labels and
/// annotations, receiver "portwarden". Firing alerts carry the zero endsAt
/// (0001-01-01T00:00:00Z), as Alertmanager sends them.
std::string WebhookPayload(const std::vector<Alert>& alerts, const std::string& external_url);

}  // namespace portwarden::notifier
