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

if grep -Ev '^[[:space:]]*(#|$)' "$allow" | grep -Ev '^[^[:space:]]+[[:space:]]+[^[:space:]]'; then
  echo "check-skips: the lines above in $allow have no reason" >&2
  exit 1
fi
allowed=$(grep -Ev '^[[:space:]]*(#|$)' "$allow" | awk '{ print $1 }' | sort -u)
skipped=$(tr -d '\r' <"$log" | sed -n 's/^portwarden-test: skipped \([^:]*\): .*/\1/p' | sort -u)
unexpected=$(comm -23 <(printf '%s\n' "$skipped" | sed '/^$/d') <(printf '%s\n' "$allowed" | sed '/^$/d'))
if [[ -n $unexpected ]]; then
  echo "check-skips: these tests skipped and are not in tests/skips.allow:" >&2
  tr -d '\r' <"$log" | grep -F -f <(printf 'portwarden-test: skipped %s:\n' $unexpected) >&2
  exit 1
fi
echo "check-skips: $(printf '%s\n' "$skipped" | sed '/^$/d' | wc -l) skipped, all allowed"
