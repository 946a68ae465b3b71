#!/usr/bin/env bash
# One command to test portwarden: installs what is missing, builds, runs the whole suite.
# ctest shows a gtest binary whose tests skipped as skipped (tests/CMakeLists.txt), and any
# skip that tests/skips.allow does not list with its reason fails the run
# (scripts/check-skips.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
status=0
(cd build && ctest --output-on-failure -j"$(nproc)" "$@") || status=$?
scripts/check-skips.sh build || status=1
exit "$status"
