#!/usr/bin/env bash
# The MSI, end to end under Wine, driven from the Linux side:
#  1. its tables (msiinfo export): version, upgrade code, service, restart-on-failure and
#     firewall custom actions, Event Log source, config kept: what Wine cannot show
#     (firewall rules, failure actions) is checked here, in what the MSI tells Windows to do;
#  2. `msiexec /i /qn` with LISTEN_ADDRESS, LISTEN_PORT and EXTRA_FLAGS: files in
#     %ProgramFiles% and %ProgramData%, the service installed with those flags, configured
#     by `service configure` and running (Wine's services.exe), serving /metrics on the
#     port; netsh called for the firewall rule (Wine's netsh is a stub that only prints its
#     arguments); the Event Log source registered, and the service's ReportEventW calls for
#     its start, a reload and a finding (Wine's ReportEventW records nothing: it only prints
#     to Wine's debug channels, which is where this test reads them);
#  3. a major upgrade to the same exe one version up: the old product gone, the edited
#     config kept, the service running again (stopped before the upgrade: see there);
#  4. `msiexec /x` (of the stopped service, as in 3.): service, files and Event Log source
#     gone, netsh called to delete the rule, the config kept.
#
#   tests/windows/msi_wine_test.sh MSI UPGRADE_MSI PORTWARDEN_EXE VERSION CONFIG WINE_RUNNER
#
# It makes a new Wine prefix of its own on every run (${PORTWARDEN_CACHE}/wineprefix-msi,
# ~15 s), so nothing an earlier run installed can make it pass; runs take turns (flock).
set -euo pipefail

usage="usage: $0 MSI UPGRADE_MSI PORTWARDEN_EXE VERSION CONFIG WINE_RUNNER"
msi=${1:?$usage}
upgrade_msi=${2:?$usage}
exe=${3:?$usage}
version=${4:?$usage}
config=${5:?$usage}
wine_run=${6:?$usage}
for f in "$msi" "$upgrade_msi" "$exe" "$config"; do
  [[ -f $f ]] || { echo "FAIL: $f does not exist" >&2; exit 1; }
done
for tool in curl promtool msiinfo; do
  command -v $tool >/dev/null || { echo "FAIL: $tool not installed" >&2; exit 1; }
done

# How long any one step may take: a new prefix boots in 10-20 s, and Wine reads the whole
# host's socket tables, slowly, for each collection (see service_wine_test.sh).
readonly deadline=120
readonly upgrade_code='{B1D6925B-6DF5-4D7E-B58F-95E823B92A13}'

# poll, use_own_prefix
source "$(dirname "${BASH_SOURCE[0]}")/wine_test_lib.sh"
use_own_prefix wineprefix-msi

work=$(mktemp -d)
# Every Wine process of this test, the service included (services.exe starts it with the
# environment and stderr of the process that booted the prefix), prints ReportEventW's
# calls: fixme:advapi lines carry the type and event ID, the eventlog channel the string.
export WINEDEBUG=fixme+advapi,trace+eventlog,warn+eventlog,err+eventlog
wine_log=$work/wine.log
wine() { "$wine_run" "$@" 2>>"$wine_log"; }

# Wine ends the session, and with it every service, once no ordinary process is left in the
# prefix; a cmd.exe reading from a pipe this script holds stands in for a logged-on user.
session_started=""
end_session() {
  if [[ -n $session_started ]]; then
    exec {session[1]}>&-
    session_started=""
  fi
}
cleanup() {
  end_session
  "$wineserver" -k 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

drive_c=$PORTWARDEN_WINEPREFIX/drive_c
service_log() {  # the service's own log file, if it wrote one
  find "$drive_c" -path '*/portwarden/portwarden.log' 2>/dev/null | head -1
}
pass() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  local log
  for log in "$work"/msiexec-*.log; do
    [[ -f $log ]] || continue
    echo "--- $log (last 40 lines):" >&2
    tail -40 "$log" >&2
  done
  log=$(service_log)
  if [[ -n $log ]]; then
    echo "--- $log:" >&2
    cat "$log" >&2
  fi
  exit 1
}


# --- 1. the tables ------------------------------------------------------------------------
table() { msiinfo export "$msi" "$1" | tr -d '\r'; }
# row TABLE KEY: the row whose first column is KEY, tab-separated.
row() { table "$1" | awk -F'\t' -v k="$2" '$1 == k'; }
field() { row "$1" "$2" | cut -f"$3"; }
sequence() { field InstallExecuteSequence "$1" 3; }
expect_between() {  # expect_between ACTION AFTER BEFORE: ACTION is sequenced in between
  (($(sequence "$2") < $(sequence "$1") && $(sequence "$1") < $(sequence "$3"))) ||
    fail "$1 ($(sequence "$1")) is not between $2 ($(sequence "$2")) and $3 ($(sequence "$3"))"
}
expect_eq() {  # expect_eq WHAT GOT WANT
  [[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"
}

expect_eq "ProductVersion" "$(field Property ProductVersion 2)" "$version"
expect_eq "UpgradeCode" "$(field Property UpgradeCode 2)" "$upgrade_code"
# MajorUpgrade: older versions are found (and removed), newer ones refuse the install.
table Upgrade | grep -q "^$upgrade_code	" || fail "no Upgrade row for $upgrade_code"
expect_eq "LaunchCondition" "$(table LaunchCondition | awk -F'\t' 'NR > 3 { print $1 }')" \
  "NOT WIX_DOWNGRADE_DETECTED"
pass "version $version, upgrade code $upgrade_code, downgrades refused"

# The service: own process (16), auto start (2), LocalSystem, the properties as its flags.
svc=$(row ServiceInstall Service)
expect_eq "ServiceInstall name, type, start" "$(cut -f2,4,5 <<<"$svc")" $'portwarden\t16\t2'
expect_eq "ServiceInstall account" "$(cut -f9 <<<"$svc")" "LocalSystem"
expect_eq "ServiceInstall arguments" "$(cut -f11 <<<"$svc")" \
  'service run --config.file="[CONFIG_FILE]" --web.listen-address=[LISTEN_ADDRESS]:[LISTEN_PORT] [EXTRA_FLAGS]'
# Started on install (1), stopped on install and uninstall (2 | 32), deleted on uninstall (128).
expect_eq "ServiceControl events" "$(field ServiceControl Service 3)" 163
pass "ServiceInstall/ServiceControl: portwarden, auto start, started, removed on uninstall"

# Restart on failure: `portwarden.exe service configure` (18: exe from an installed file)
# deferred (1024) without impersonation (2048), after InstallServices, not on uninstall.
expect_eq "ConfigureService" "$(field CustomAction ConfigureService 2-4)" \
  $'3154\tportwarden.exe\tservice configure'
expect_between ConfigureService InstallServices StartServices
expect_eq "ConfigureService condition" "$(field InstallExecuteSequence ConfigureService 2)" \
  'NOT REMOVE~="ALL"'
pass "restart on failure: 'portwarden.exe service configure' after InstallServices"

# The firewall rule (Wine has no firewall: netsh advfirewall is a stub that answers 0):
# netsh from the property NETSH (50), deferred, not impersonated; add checked (3122) on
# install, delete first on every run with its failure ignored (3186), so uninstall removes it.
expect_eq "SetNetsh" "$(field CustomAction SetNetsh 2-4)" $'51\tNETSH\t[System64Folder]netsh.exe'
expect_eq "AddFirewallRule" "$(field CustomAction AddFirewallRule 2-4)" \
  $'3122\tNETSH\tadvfirewall firewall add rule name=portwarden dir=in action=allow protocol=TCP localport=[LISTEN_PORT] program="[#portwarden.exe]"'
expect_eq "DeleteFirewallRule" "$(field CustomAction DeleteFirewallRule 2-4)" \
  $'3186\tNETSH\tadvfirewall firewall delete rule name=portwarden'
expect_eq "AddFirewallRule condition" "$(field InstallExecuteSequence AddFirewallRule 2)" \
  'NOT REMOVE~="ALL"'
expect_eq "DeleteFirewallRule condition" "$(field InstallExecuteSequence DeleteFirewallRule 2)" ""
expect_between SetNetsh CostFinalize InstallInitialize
expect_between DeleteFirewallRule InstallInitialize AddFirewallRule
expect_between AddFirewallRule DeleteFirewallRule InstallFinalize
pass "firewall: inbound TCP [LISTEN_PORT] for portwarden.exe added on install, deleted on uninstall"

# CONFIG_FILE defaults to the installed config, set before the service is written.
expect_eq "DefaultConfigFile" "$(field CustomAction DefaultConfigFile 2-4)" \
  $'51\tCONFIG_FILE\t[DATADIR]portwarden.yml'
expect_between DefaultConfigFile CostFinalize InstallInitialize
# The older product goes before anything of the newer one is installed.
expect_between RemoveExistingProducts InstallValidate InstallInitialize
# NeverOverwrite (128) | Permanent (16) | 64-bit (256).
expect_eq "Config component attributes" "$(field Component Config 4)" 400
for p in LISTEN_ADDRESS LISTEN_PORT CONFIG_FILE EXTRA_FLAGS; do
  [[ ";$(field Property SecureCustomProperties 2);" == *";$p;"* ]] ||
    fail "$p is not in SecureCustomProperties"
done
# The Event Log source: HKLM (2), the message table in the installed exe.
eventlog_key='SYSTEM\CurrentControlSet\Services\EventLog\Application\portwarden'
# (wixl writes the key with a trailing backslash; awk -v would take the others as escapes.)
table Registry |
  key=$eventlog_key awk -F'\t' '{ sub(/\\$/, "", $3) } $2 == 2 && $3 == ENVIRON["key"] { print $4 "=" $5 }' |
  sort >"$work/registry"
expect_eq "Event Log registration" "$(cat "$work/registry")" \
  $'EventMessageFile=[#portwarden.exe]\nTypesSupported=#7'
pass "config kept on upgrade and uninstall, properties secure, Event Log source registered"

# --- 2. install ---------------------------------------------------------------------------
# A new prefix every run: no service, product or file from an earlier run.
rm -rf "$PORTWARDEN_WINEPREFIX"
coproc session { "$wine_run" cmd >/dev/null 2>>"$wine_log"; }
session_started=1

port=$(perl -MIO::Socket::INET -e \
  'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport')
[[ -n $port ]] || fail "could not find a free port"

installed_exe="$drive_c/Program Files/portwarden/portwarden.exe"
installed_config=$drive_c/ProgramData/portwarden/portwarden.yml
service_state() {
  wine sc query portwarden | tr -d '\r' | awk '$1 == "STATE" { print $4 }'
}
state_is() { [[ $(service_state) == "$1" ]]; }
not_installed() { ! wine sc query portwarden >/dev/null; }
reg_value() {  # reg_value KEY NAME: the value's data, as `reg query` prints it
  wine reg query "$1" /v "$2" | tr -d '\r' | awk -v n="$2" '$1 == n { $1 = ""; $2 = ""; sub(/^ +/, ""); print }'
}
http_status() {
  curl -sS --max-time 10 -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$port$1" \
    2>/dev/null || true
}
metrics_show_own_listener() {
  [[ $(http_status /metrics) == 200 ]] &&
    grep -q "^portwarden_listener_info{proto=\"tcp\",family=\"ipv4\",address=\"127.0.0.1\",port=\"$port\"," \
      "$work/body"
}
serves() {
  poll metrics_show_own_listener ||
    fail "$1: /metrics on 127.0.0.1:$port never showed its own listener; last: $(cat "$work/body")"
}
msiexec() {  # msiexec NAME ARGS...: runs msiexec /qn with a verbose log $work/msiexec-NAME.log
  local name=$1
  shift
  wine msiexec "$@" /qn /l*v "$(winepath_of "$work/msiexec-$name.log")"
}
winepath_of() { echo "Z:${1//\//\\}"; }

props=(LISTEN_ADDRESS=127.0.0.1 "LISTEN_PORT=$port"
       "EXTRA_FLAGS=--collect.interval=500ms --web.enable-lifecycle")
rc=0
msiexec install /i "$(winepath_of "$msi")" "${props[@]}" || rc=$?
((rc == 0)) || fail "msiexec /i exited $rc"
cmp -s "$exe" "$installed_exe" || fail "C:\\Program Files\\portwarden\\portwarden.exe is not the built exe"
cmp -s "$config" "$installed_config" || fail "C:\\ProgramData\\portwarden\\portwarden.yml is not packaging/portwarden.yml"
pass "msiexec /i: portwarden.exe in C:\\Program Files\\portwarden, the default config in C:\\ProgramData\\portwarden"

service_key='HKLM\System\CurrentControlSet\Services\portwarden'
image_path=$(reg_value "$service_key" ImagePath)
want_args="service run --config.file=\"C:\\ProgramData\\portwarden\\portwarden.yml\" --web.listen-address=127.0.0.1:$port --collect.interval=500ms --web.enable-lifecycle"
[[ $image_path == *"portwarden.exe\" $want_args"* || $image_path == *"portwarden.exe $want_args"* ]] ||
  fail "ImagePath '$image_path' does not end in '$want_args'"
# Set by `portwarden.exe service configure`: the custom action ran, on the service MSI made.
[[ $(reg_value "$service_key" Description) == "Samples who owns which address:port"* ]] ||
  fail "no service description: the ConfigureService custom action did not run"
poll state_is RUNNING || fail "service state '$(service_state)' $deadline s after install, want RUNNING"
pass "service installed with the properties as flags, configured, RUNNING"
serves "after install"
promtool check metrics <"$work/body" >"$work/promtool" 2>&1 ||
  fail "promtool check metrics: $(cat "$work/promtool")"
pass "the service serves /metrics on 127.0.0.1:$port, promtool ok"

# Wine's netsh is a stub that creates no rule, but it prints how it was called: the rule
# the custom actions ask for, after deleting any earlier one. (The service's collectors run
# netsh too, for `http show` and `int ... show`.)
firewall_calls() {
  # 0144:fixme:netsh:wmain stub: L"C:\\...\\netsh.exe" L"advfirewall" L"firewall" ...
  grep -a 'fixme:netsh:wmain stub: L"[^"]*" L"advfirewall"' "$wine_log" |
    sed 's/.*stub: L"[^"]*netsh\.exe"//; s/ L"\([^"]*\)"/ \1/g; s/^ //'
}
want_add="advfirewall firewall add rule name=portwarden dir=in action=allow protocol=TCP localport=$port program=C:\\\\Program Files\\\\portwarden\\\\portwarden.exe"
want_delete="advfirewall firewall delete rule name=portwarden"
expect_eq "netsh calls of the install" "$(firewall_calls)" "$want_delete"$'\n'"$want_add"
pass "firewall: netsh deleted, then added the rule for TCP $port and portwarden.exe (Wine creates none)"

eventlog_reg="HKLM\\$eventlog_key"
expect_eq "EventMessageFile" "$(reg_value "$eventlog_reg" EventMessageFile)" \
  'C:\Program Files\portwarden\portwarden.exe'
expect_eq "TypesSupported" "$(reg_value "$eventlog_reg" TypesSupported)" 0x7
pass "Event Log source portwarden registered, EventMessageFile the installed exe"
# reported TYPE ID TEXT: the service called ReportEventW with that type (4 information,
# 2 warning, 1 error), event ID and a string starting with TEXT. Wine prints the call on its
# advapi channel and the string on the eventlog channel (trace, warn or err by type).
reported() {
  local type=$1 id=$2 text=$3
  grep -Eq "ReportEventW \([^,]*,$(printf '0x%04x' "$type"),0x0000,$(printf '0x%08x' "$id")," \
    "$wine_log" && grep -Fq "eventlog:ReportEventW L\"$text" "$wine_log"
}
expect_reported() {  # expect_reported TYPE ID TEXT WHAT
  poll reported "$1" "$2" "$3" ||
    fail "the service never reported $4 (type $1, event $2, '$3'); Wine's log:
$(grep -a 'ReportEventW' "$wine_log" | tail -20)"
}
expect_reported 4 1 'msg=\"portwarden started\"' "its start"
pass "the service reported event 1 (started, information) through ReportEventW"

# An expectation nobody meets, loaded by a reload: event 300 (information) for the reload,
# event 100 (warning) for the finding it raises. The edit also marks the config for the
# upgrade and uninstall checks.
cat >>"$installed_config" <<'YAML'
expect:
  - name: msi-test-missing           # edited by msi_wine_test
    listen: 127.0.0.1:1/tcp
    owner: { process: nginx }
YAML
reload_status=$(curl -sS --max-time 30 -o "$work/reload" -w '%{http_code}' -X POST \
  "http://127.0.0.1:$port/-/reload" || true)
expect_eq "POST /-/reload ($(cat "$work/reload"))" "$reload_status" 200
expect_reported 4 300 'msg=\"config reloaded\"' "the reload"
expect_reported 2 100 'msg=finding_raised kind=missing rule=msi-test-missing' "the finding"
pass "reload and finding_raised reported as events 300 (information) and 100 (warning)"

# --- 3. major upgrade ---------------------------------------------------------------------
old_product=$(field Property ProductCode 2)
new_product=$(msiinfo export "$upgrade_msi" Property | tr -d '\r' | awk -F'\t' '$1 == "ProductCode" { print $2 }')
uninstall_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'
registered() { wine reg query "$uninstall_key\\$1" >/dev/null; }
registered "$old_product" || fail "product $old_product is not registered after install"
# Wine 8's StopServices does not wait for a running service to stop, so the older product's
# DeleteServices only marks it for deletion, the newer InstallServices cannot create it
# again, StartServices fails and msiexec rolls back (exit 91). Windows waits (Wait="yes").
# So here the service is stopped first; the newer MSI starts it again.
wine sc stop portwarden >/dev/null || fail "sc stop portwarden failed"
poll state_is STOPPED || fail "service state '$(service_state)' $deadline s after sc stop"
rc=0
msiexec upgrade /i "$(winepath_of "$upgrade_msi")" "${props[@]}" || rc=$?
((rc == 0)) || fail "msiexec /i (upgrade) exited $rc"
registered "$new_product" || fail "the upgrade's product $new_product is not registered"
! registered "$old_product" || fail "the old product $old_product is still registered after the upgrade"
grep -q 'edited by msi_wine_test' "$installed_config" ||
  fail "the upgrade replaced the edited config"
poll state_is RUNNING || fail "service state '$(service_state)' after the upgrade, want RUNNING"
serves "after the upgrade"
pass "major upgrade: old product removed, edited config kept, service running and serving"

# --- 4. uninstall -------------------------------------------------------------------------
# Stopped first for the same reason as before the upgrade: left running, Wine would delete
# the service but not the exe the still-running process holds. (The ServiceControl row's
# stop-on-uninstall is checked in the tables above.)
wine sc stop portwarden >/dev/null || fail "sc stop portwarden failed"
poll state_is STOPPED || fail "service state '$(service_state)' $deadline s after sc stop"
rc=0
msiexec uninstall /x "$(winepath_of "$upgrade_msi")" || rc=$?
((rc == 0)) || fail "msiexec /x exited $rc"
poll not_installed || fail "sc still knows the service $deadline s after msiexec /x"
[[ ! -e $installed_exe ]] || fail "portwarden.exe still installed after msiexec /x"
! registered "$new_product" || fail "product $new_product still registered after msiexec /x"
! wine reg query "$eventlog_reg" >/dev/null || fail "the Event Log source is still registered"
grep -q 'edited by msi_wine_test' "$installed_config" ||
  fail "msiexec /x removed (or replaced) the config"
[[ $(http_status /-/healthy) == 000 ]] || fail "port $port still answers after msiexec /x"
[[ $(firewall_calls | tail -1) == "$want_delete" ]] ||
  fail "the last netsh call of msiexec /x is not the rule's deletion: $(firewall_calls | tail -3)"
pass "msiexec /x: service, exe, Event Log source and firewall rule gone, the config kept"

end_session
"$wineserver" -w
