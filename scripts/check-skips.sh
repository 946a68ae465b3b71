#!/usr/bin/env bash
# Fails if the last ctest run in BUILD_DIR skipped a test that tests/skips.allow does not
# list with a reason. ctest marks a gtest binary skipped by its "portwarden-test: skipped
# Suite.Name: reason" lines (tests/support/gtest_main.cpp, SKIP_REGULAR_EXPRESSION); this
# reads the same lines from ctest's log.
#   scripts/check-skips.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
log=${1:?usage: check-skips.sh BUILD_DIR}/Testing/Temporary/LastTest.log
allow=$root/tests/skips.allow

# Entries: the name, then a reason; comments and blank lines aside.
entries=$(awk '!/^[[:space:]]*(#|$)/' "$allow")
if awk 'NF == 1 { bad = 1; print "  " $0 } END { exit !bad }' <<<"$entries" >&2; then
  echo "check-skips: the entries above in $allow give no reason" >&2
  exit 1
fi
skipped=$(tr -d '\r' <"$log" | awk '/^portwarden-test: skipped / { print }')
unexpected=$(awk 'NR == FNR { if (NF) allowed[$1] = 1; next }
                  { name = $3; sub(/:$/, "", name); if (!(name in allowed)) print }' \
  <(printf '%s\n' "$entries") <(printf '%s\n' "$skipped"))
if [[ -n $unexpected ]]; then
  echo "check-skips: skipped, and not in tests/skips.allow:" >&2
  printf '  %s\n' "$unexpected" >&2
  exit 1
fi
echo "check-skips: $(grep -c . <<<"$skipped" || true) skipped, each listed in tests/skips.allow"
