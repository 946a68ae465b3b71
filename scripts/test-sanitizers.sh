#!/usr/bin/env bash
# The whole test suite (unit, fuzz corpus replay, end-to-end) built with AddressSanitizer and
# UndefinedBehaviorSanitizer, in its own build directory, so memory errors, leaks and UB fail
# the run, as does a skip tests/skips.allow does not list (scripts/check-skips.sh). Extra
# arguments go to ctest, e.g. scripts/test-sanitizers.sh -R security.
# Environment: BUILD_DIR (default build-sanitizers/ in the checkout), JOBS (default 2).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-sanitizers}
jobs=${JOBS:-2}
"$root/scripts/install-deps.sh"

flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j "$jobs"

# Errors abort the process under test, so the test that ran it fails with the report.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
(cd "$build" && ctest --output-on-failure -j "$jobs" "$@") || status=$?
"$root/scripts/check-skips.sh" "$build" || status=1
exit "$status"
