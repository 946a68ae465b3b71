#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz/*_fuzz.cpp, one per decoder) with clang, libFuzzer,
# ASan and UBSan, runs each in turn for SECONDS on its kept corpus (tests/fuzz/corpus/<target>/,
# only read; new inputs go to a scratch directory), and prints a summary (seconds,
# executions, coverage, corpus, crashes). A crash, a sanitizer report, a violated property
# (PORTWARDEN_FUZZ_CHECK) or an input running longer than 10 s fails the target.
#
#   scripts/fuzz.sh                       every target, 60 s each
#   scripts/fuzz.sh -t 20                 every target, 20 s each (.ci/run's fuzz stage)
#   scripts/fuzz.sh -t 300 inet_diag      one target for 5 minutes
#   scripts/fuzz.sh -m                    afterwards, minimize tests/fuzz/corpus/<target>/
#                                         with what the run found (libFuzzer -merge=1, see
#                                         minimize below), for committing
#
# Environment: BUILD_DIR (default build-fuzz/ in the checkout), JOBS (parallel compile jobs, default 2).
# A failure leaves $BUILD_DIR/artifacts/<target>-crash-<sha1> (or -timeout-) and makes the
# script exit 1. Reproduce with `$BUILD_DIR/tests/fuzz/<target>_fuzz <file>`; after the fix,
# copy the file into tests/fuzz/corpus/<target>/ so every normal build replays it
# (ctest -R fuzz_corpus_).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=60
merge=""
while getopts "t:mh" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    m) merge=1 ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
build=${BUILD_DIR:-$root/build-fuzz}
jobs=${JOBS:-2}

"$root/scripts/install-deps.sh"
need=()
command -v clang++ >/dev/null || need+=(clang)
# libFuzzer and the sanitizer runtimes of Debian's clang 14.
[ -n "$(find /usr/lib/llvm-14 -name 'libclang_rt.fuzzer-x86_64.a' 2>/dev/null)" ] || need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${need[@]}" >/dev/null
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in "$root"/tests/fuzz/*_fuzz.cpp; do
    n=$(basename "$f" _fuzz.cpp)
    targets+=("$n")
  done
fi

flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DPORTWARDEN_FUZZ=ON -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]/%/_fuzz}"

# Minimizes the kept corpus of target $1 with the new inputs in $2: its named files (seeds,
# regressions) stay; the fuzzer-found ones (named by their SHA-1) are chosen again from the
# kept and the new ones by libFuzzer's merge, smallest first, each only if it reaches an edge
# the files chosen before it do not (-use_counters=0: edges, not hit counts).
minimize() {
  local kept="$root/tests/fuzz/corpus/$1" fresh="$build/merge/$1" hashed='.*/[0-9a-f]{40}'
  rm -rf "$fresh"
  mkdir -p "$fresh"
  find "$kept" -regextype posix-extended -type f ! -regex "$hashed" -exec cp {} "$fresh/" \;
  "$build/tests/fuzz/${1}_fuzz" -merge=1 -use_counters=0 "$fresh" "$kept" "$2" \
    >"$build/logs/$1.merge.log" 2>&1
  find "$kept" -regextype posix-extended -type f -regex "$hashed" -delete
  find "$fresh" -regextype posix-extended -type f -regex "$hashed" -exec cp {} "$kept/" \;
}

mkdir -p "$build/artifacts" "$build/logs"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
summary="target seconds execs exec/s cov ft corpus kept crashes"
failed=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  rm -rf "$work"
  mkdir -p "$work"
  log="$build/logs/$t.log"
  # New inputs go to the scratch dir (first); the checked-in seeds (second) are only read.
  set +e
  "$build/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t-" "$work" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  if [ $rc -eq 0 ] && [ -n "$merge" ]; then
    minimize "$t" "$work"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  kept=$(find "$root/tests/fuzz/corpus/$t" -type f | wc -l)
  crashes=0
  if [ $rc -ne 0 ]; then
    crashes=1
    failed=1
    echo "fuzz: $t failed (exit $rc), see $log:" >&2
    grep -E 'ERROR|SUMMARY|runtime error|invariant failed|Test unit written' "$log" | head -5 >&2
  fi
  summary+=$'\n'"$t $seconds ${execs:-?} ${rate:-?} ${cov:-?} ${ft:-?} ${corp:-?} $kept $crashes"
done
awk '{ printf "%-20s %8s %12s %8s %6s %7s %7s %5s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' <<<"$summary"
echo "kept corpora (tests/fuzz/corpus): $(find "$root/tests/fuzz/corpus" -type f | wc -l) files," \
  "$(find "$root/tests/fuzz/corpus" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }') bytes"
exit $failed
