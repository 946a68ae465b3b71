#!/usr/bin/env bash
# One command for the Windows build, on a fresh Debian 12: installs what is missing,
# cross-builds portwarden.exe, its MSI and the tests with MinGW-w64 into build-win/
# (scripts/package-windows.sh), and runs the tests under Wine with ctest. Every stage says
# how long it took.
#
#   scripts/test-windows.sh            # everything
#   scripts/test-windows.sh -R daemon  # extra arguments go to ctest
#
# The result, build-win/exporter/portwarden.exe, is what ships: one static, stripped
# executable (Release, linked with -s) that needs no DLL beside it. The tests run that very
# file: the Windows unit tests and the live listener test (tests/windows) as .exe under
# Wine, and the end-to-end daemon, service and MSI tests (tests/windows/*_wine_test.sh) on
# the Linux side, driving it under Wine and scraping it with curl. The MSI,
# build-win/portwarden-<version>-x64.msi, ships too.
#
# Environment:
#   PORTWARDEN_WIN_BUILD_DIR  build directory (default build-win)
#   PORTWARDEN_JOBS           parallel build and test jobs (default 2)
#   PORTWARDEN_CACHE          dependency prefix and Wine prefixes (default /var/cache/portwarden)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${PORTWARDEN_WIN_BUILD_DIR:-build-win}
jobs=${PORTWARDEN_JOBS:-2}

script_start=$SECONDS
stage() {
  local name=$1
  shift
  local start=$SECONDS
  echo "=== windows: $name"
  "$@"
  echo "=== windows: $name took $((SECONDS - start))s"
}

install_dependencies() {
  # The Linux side of the end-to-end tests needs curl and promtool (Debian's prometheus).
  scripts/install-deps.sh
}

package() {
  msi=$(scripts/package-windows.sh)
}

run_tests() {
  local status=0
  (cd "$build" && ctest --output-on-failure -j"$jobs" "$@") || status=$?
  scripts/check-skips.sh "$build" || status=1
  return "$status"
}

stage "dependencies (install-deps.sh)" install_dependencies
stage "build and package (package-windows.sh)" package
stage "test (ctest, under Wine)" run_tests "$@"
exe=$build/exporter/portwarden.exe
echo "=== windows: total $((SECONDS - script_start))s; shippable: $exe ($(stat -c %s "$exe") bytes), $msi"
