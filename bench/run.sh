#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: builds portwarden and the benchmark (Release with debug
# info, into build-bench/ or $BENCH_BUILD_DIR), then runs it as root. Flags go to
# portwarden-bench, e.g.:
#   bench/run.sh                                 # small, medium, large; one table
#   bench/run.sh --scales small --interval 1     # a quick look
#   bench/run.sh --scales large --soak 600       # with the 10-minute memory run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
bench/setup.sh
build=${BENCH_BUILD_DIR:-build-bench}
cmake -S bench -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target portwarden portwarden-bench portwarden-fixture
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
exec $sudo "$build/portwarden-bench" --portwarden "$build/portwarden/exporter/portwarden" "$@"
