#!/usr/bin/env bash
# One command to test portwarden: installs what is missing, builds, runs the whole suite.
# A test that calls GTEST_SKIP passes in ctest's count, so the skips are listed from
# ctest's log afterwards and any skip fails the run: every test here can run as root on
# Debian 12, and a Windows-only test belongs to scripts/test-windows.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd build
status=0
ctest --output-on-failure -j"$(nproc)" "$@" || status=$?
skipped=$(sed -n 's/^\[  SKIPPED \] \([A-Za-z0-9_/]*\.[A-Za-z0-9_/]*\).*/\1/p' \
  Testing/Temporary/LastTest.log | sort -u)
if [[ -n $skipped ]]; then
  echo "test.sh: these tests were skipped, which counts as a failure here:" >&2
  printf '  %s\n' $skipped >&2
  status=1
fi
exit "$status"
