#!/usr/bin/env bash
# The Windows service under Wine's service manager (services.exe), driven from the Linux side:
# `portwarden.exe service install` (flags become the service's command line), `service start`,
# a scrape of the running service, `service stop`, `service uninstall`. Wine's sc.exe is the
# independent observer of the service state.
#
#   tests/windows/service_wine_test.sh build-win/exporter/portwarden.exe scripts/wine-run.sh
#
# It uses a Wine prefix of its own (${PORTWARDEN_CACHE}/wineprefix-service, created on first
# use, ~15 s): the service is installed as auto-start, and Wine starts auto-start services
# whenever a prefix boots, so a leftover in the shared test prefix would start portwarden
# under every other test. Runs of this test on one machine take turns (flock).
#
# What Wine 8 cannot show: delayed auto-start (ChangeServiceConfig2W answers
# ERROR_INVALID_LEVEL), the restart-on-failure actions (accepted, never exercised), and real
# owners (PID 0).
set -euo pipefail

exe=${1:?usage: $0 PORTWARDEN_EXE WINE_RUNNER}
wine_run=${2:?usage: $0 PORTWARDEN_EXE WINE_RUNNER}
[[ -f $exe ]] || { echo "FAIL: $exe does not exist" >&2; exit 1; }
command -v curl >/dev/null || { echo "FAIL: curl not installed" >&2; exit 1; }
command -v promtool >/dev/null ||
  { echo "FAIL: promtool not installed (Debian package prometheus)" >&2; exit 1; }

# How long any one step may take. A new Wine prefix takes 10-20 s to create, and Wine reads
# the socket tables of the whole host, slowly: a host with tens of thousands of sockets makes
# one collection, and with it the first /-/ready or a stop, take a minute.
readonly deadline=120

# poll, use_own_prefix
source "$(dirname "${BASH_SOURCE[0]}")/wine_test_lib.sh"
use_own_prefix wineprefix-service


# STATE of `sc query portwarden`: RUNNING, STOPPED, START_PENDING, ...; empty if not installed.
service_state() {
  "$wine_run" sc query portwarden 2>/dev/null | tr -d '\r' | awk '$1 == "STATE" { print $4 }'
}
state_is() { [[ $(service_state) == "$1" ]]; }
not_installed() { ! "$wine_run" sc query portwarden >/dev/null 2>&1; }

# Wine ends the session, and with it stops every service, as soon as no ordinary (non-service)
# process is left in the prefix; Windows runs services whether or not anyone is logged on.
# A cmd.exe reading from a pipe this script holds stands in for a session until the end.
coproc session { "$wine_run" cmd >/dev/null 2>&1; }
end_session() {
  if [[ -n ${session[1]:-} ]]; then exec {session[1]}>&-; fi
}

work=$(mktemp -d)
installed=""
cleanup() {
  if [[ -n $installed ]]; then
    # A failed run: remove the service, then end everything in this private prefix. Should
    # the registry not have been saved, the next run removes the leftover service first.
    "$wine_run" "$exe" service uninstall >/dev/null 2>&1 || true
    poll not_installed || true
    "$wineserver" -k 2>/dev/null || true
  fi
  end_session
  rm -rf "$work"
}
trap cleanup EXIT

log_file() {  # the service's log, wherever %ProgramData% pointed in the service's environment
  find "$PORTWARDEN_WINEPREFIX/drive_c" -path '*/portwarden/portwarden.log' 2>/dev/null | head -1
}
fail() {
  echo "FAIL: $*" >&2
  local log
  # A clean stop also logs the shutdown.
  if [[ -n $installed ]]; then
    "$wine_run" "$exe" service stop >/dev/null 2>&1 || true
    poll state_is STOPPED || true
  fi
  log=$(log_file)
  if [[ -n $log ]]; then
    echo "--- $log:" >&2
    cat "$log" >&2
  fi
  exit 1
}
pass() { echo "ok: $*"; }

http_status() {  # http_status PATH -> the status code on stdout, the body in $work/body
  curl -sS --max-time 10 -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$port$1" \
    2>/dev/null || true
}
is_ready() { [[ $(http_status /-/ready) == 200 ]]; }
metrics_show_own_listener() {
  [[ $(http_status /metrics) == 200 ]] &&
    grep -q "^portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"127.0.0.1\",port=\"$port\"," \
      "$work/body"
}

# A port the kernel hands out as free right now, picked up front: the test needs it before
# the service has written anything.
port=$(perl -MIO::Socket::INET -e \
  'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport')
[[ -n $port ]] || fail "could not find a free port"

# A previous run killed mid-way (ctest timeout) may have left the service installed.
if ! not_installed; then
  "$wine_run" "$exe" service uninstall >/dev/null 2>&1 || true
  poll not_installed || fail "a leftover portwarden service could not be removed"
fi
rm -rf "$PORTWARDEN_WINEPREFIX/drive_c/ProgramData/portwarden" \
       "$PORTWARDEN_WINEPREFIX/drive_c/users/Public/portwarden"

# --- install ------------------------------------------------------------------------------
# Wine 8 refuses delayed auto-start with ERROR_INVALID_LEVEL (0x7c); install reports each
# failed setting and exits 1, keeping the service. Exactly that one, and nothing else, may fail.
install_rc=0
"$wine_run" "$exe" service install --web.listen-address="127.0.0.1:$port" \
  --collect.interval=500ms >"$work/install" 2>&1 || install_rc=$?
installed=1
errors=$(grep 'error:' "$work/install" | tr -d '\r' || true)
want_errors='portwarden: error: ChangeServiceConfig2W(delayed auto-start) failed: 0x0000007c'
if [[ $install_rc -ne 0 || -n $errors ]]; then
  [[ $install_rc -eq 1 && $errors == "$want_errors" ]] ||
    fail "service install (exit $install_rc): $(cat "$work/install")"
fi
grep -q 'service portwarden installed' "$work/install" || fail "service install: $(cat "$work/install")"
image_path=$("$wine_run" reg query 'HKLM\System\CurrentControlSet\Services\portwarden' \
               /v ImagePath 2>/dev/null | tr -d '\r')
[[ $image_path == *"portwarden.exe service run --web.listen-address=127.0.0.1:$port --collect.interval=500ms"* ]] ||
  fail "ImagePath does not carry the flags: $image_path"
start_type=$("$wine_run" reg query 'HKLM\System\CurrentControlSet\Services\portwarden' \
               /v Start 2>/dev/null | tr -d '\r')
[[ $start_type == *"REG_DWORD"*"0x2"* ]] || fail "Start is not 2 (auto-start): $start_type"
state_is STOPPED || fail "state after install: '$(service_state)', want STOPPED"
pass "service install: auto-start, ImagePath '... service run --web.listen-address=127.0.0.1:$port ...'"

# --- start, scrape ------------------------------------------------------------------------
"$wine_run" "$exe" service start >"$work/start" 2>&1 || fail "service start: $(cat "$work/start")"
poll state_is RUNNING || fail "state '$(service_state)' $deadline s after start, want RUNNING"
pass "service start: RUNNING"
poll is_ready ||
  fail "/-/ready of the service answered $(http_status /-/ready), not 200, for $deadline s"
poll metrics_show_own_listener ||
  fail "/metrics of the service never showed its listener 127.0.0.1:$port; last body:
$(cat "$work/body")"
promtool check metrics <"$work/body" >"$work/promtool" 2>&1 ||
  fail "promtool check metrics: $(cat "$work/promtool")"
# The log file is flushed line by line: the start line is there while the service runs.
log_has_start() { local log; log=$(log_file); [[ -n $log ]] && grep -q 'msg="portwarden started"' "$log"; }
poll log_has_start || fail "the running service's log file has no start line"
pass "service serves /-/ready and /metrics ($(grep -c '^portwarden_listener_info{' "$work/body") listener series), promtool ok"

# --- stop ---------------------------------------------------------------------------------
"$wine_run" "$exe" service stop >"$work/stop" 2>&1 || fail "service stop: $(cat "$work/stop")"
poll state_is STOPPED || fail "state '$(service_state)' $deadline s after stop, want STOPPED"
[[ $(http_status /-/healthy) == 000 ]] || fail "port $port still answers after the service stopped"
log=$(log_file)
[[ -n $log ]] || fail "no portwarden/portwarden.log under the prefix's drive_c"
grep -q 'msg="portwarden started"' "$log" || fail "no start line in $log"
grep -q 'caller=service msg="shutting down"' "$log" || fail "no service shutdown line in $log"
pass "service stop: STOPPED, port closed, clean shutdown logged in C:${log#*/drive_c}"

# --- uninstall ----------------------------------------------------------------------------
"$wine_run" "$exe" service uninstall >"$work/uninstall" 2>&1 ||
  fail "service uninstall: $(cat "$work/uninstall")"
poll not_installed || fail "sc still knows the service $deadline s after uninstall"
installed=""
pass "service uninstall: gone"

# With the session gone nothing of ours runs in the prefix: services.exe and the other Wine
# system processes end on their own, and wineserver saves the registry as it exits.
end_session
"$wineserver" -w
