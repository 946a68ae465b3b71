#!/usr/bin/env bash
# End to end under Wine, driven from the Linux side: the cross-built portwarden.exe runs in
# the foreground on a loopback port it picks, is scraped with curl, its exposition passes
# `promtool check metrics`, a second instance on the same port fails as documented, and
# Ctrl-C (Wine turns SIGINT into CTRL_C_EVENT for SetConsoleCtrlHandler) stops it cleanly.
#
#   tests/windows/daemon_wine_test.sh build-win/exporter/portwarden.exe scripts/wine-run.sh
#
# Under Wine every socket's owning PID reads 0, so owners are "unknown": this checks
# addresses, ports and the endpoints, not attribution (tests/e2e does that on Linux).
set -euo pipefail

exe=${1:?usage: $0 PORTWARDEN_EXE WINE_RUNNER}
wine_run=${2:?usage: $0 PORTWARDEN_EXE WINE_RUNNER}
[[ -f $exe ]] || { echo "FAIL: $exe does not exist" >&2; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl not installed" >&2; exit 1; }
command -v promtool >/dev/null ||
  { echo "FAIL: promtool not installed (Debian package prometheus)" >&2; exit 1; }

# How long any one step may take. The first Wine start on a cold machine boots the Wine
# prefix (10-20 s), and Wine reads the socket tables of the whole host, slowly: a host with
# tens of thousands of sockets makes one collection take a minute.
readonly deadline=120
# poll
source "$(dirname "${BASH_SOURCE[0]}")/wine_test_lib.sh"

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- portwarden.exe stderr:" >&2
  cat "$work/stderr" >&2 || true
  exit 1
}
pass() { echo "ok: $*"; }


# The port from the start-up line: ... msg="portwarden started" ... address=127.0.0.1:PORT
started_port() {
  port=$(sed -n 's/.*msg="portwarden started".* address=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
           "$work/stderr")
  [[ -n $port ]]
}
exited() { ! kill -0 "$pid" 2>/dev/null; }
started_or_exited() { started_port || exited; }

http_status() {  # http_status PATH -> the status code on stdout, the body in $work/body
  curl -sS --max-time 10 -o "$work/body" -D "$work/headers" -w '%{http_code}' \
    "http://127.0.0.1:$port$1" 2>/dev/null || true
}
is_ready() { [[ $(http_status /-/ready) == 200 ]]; }
metrics_show_own_listener() {
  [[ $(http_status /metrics) == 200 ]] &&
    grep -q "^portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"127.0.0.1\",port=\"$port\"," \
      "$work/body" &&
    grep -q '^portwarden_collector_success{collector="listeners"} 1$' "$work/body"
}

# --- start --------------------------------------------------------------------------------
"$wine_run" "$exe" run --web.listen-address=127.0.0.1:0 --collect.interval=500ms \
  2>"$work/stderr" &
pid=$!
poll started_or_exited && started_port ||
  fail "no 'portwarden started' line with the listen address (within $deadline s, or it exited)"
pass "started under Wine on 127.0.0.1:$port"

# --- endpoints ----------------------------------------------------------------------------
[[ $(http_status /-/healthy) == 200 ]] || fail "/-/healthy did not answer 200"
pass "/-/healthy 200"
poll is_ready || fail "/-/ready answered $(http_status /-/ready), not 200, for $deadline s"
pass "/-/ready 200"
poll metrics_show_own_listener ||
  fail "/metrics never showed portwarden's own listener 127.0.0.1:$port and a successful
listeners collector; last body:
$(cat "$work/body")"
grep -qi '^content-type: text/plain; version=0.0.4' "$work/headers" ||
  fail "/metrics Content-Type is not the Prometheus text format: $(cat "$work/headers")"
grep -q '^portwarden_listener_source_info{backend="iphlpapi"} 1$' "$work/body" ||
  fail "/metrics lacks portwarden_listener_source_info{backend=\"iphlpapi\"} 1"
pass "/metrics: $(grep -c '^portwarden_listener_info{' "$work/body") portwarden_listener_info series, own listener included"
promtool check metrics <"$work/body" >"$work/promtool" 2>&1 ||
  fail "promtool check metrics: $(cat "$work/promtool")"
pass "promtool check metrics"

# --- a second instance on the same port fails at start-up, exit code 1 --------------------
set +e
"$wine_run" "$exe" run --web.listen-address="127.0.0.1:$port" 2>"$work/second" </dev/null
second_rc=$?
set -e
[[ $second_rc == 1 ]] ||
  fail "second instance on port $port: exit $second_rc, want 1: $(cat "$work/second")"
grep -q "cannot listen on 127.0.0.1:$port" "$work/second" ||
  fail "second instance did not say it cannot listen: $(cat "$work/second")"
pass "second instance on the same port: exit 1, 'cannot listen on 127.0.0.1:$port'"

# --- Ctrl-C stops it cleanly --------------------------------------------------------------
kill -INT "$pid"
poll exited || fail "still running $deadline s after SIGINT (Ctrl-C)"
set +e
wait "$pid"
rc=$?
set -e
pid=""
[[ $rc == 0 ]] || fail "exit code $rc after Ctrl-C, want 0"
grep -q 'msg="shutting down"' "$work/stderr" || fail "no 'shutting down' line after Ctrl-C"
[[ $(http_status /-/healthy) == 000 ]] || fail "port $port still answers after the exit"
pass "Ctrl-C: clean stop, exit 0, port closed"
