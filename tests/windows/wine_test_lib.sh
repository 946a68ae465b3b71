# Sourced by the *_wine_test.sh scripts.

# poll COMMAND...: runs COMMAND every 100 ms until it succeeds; fails after $deadline seconds
# (each script sets its own deadline): waiting with a deadline instead of sleeping.
poll() {
  local until=$((SECONDS + deadline))
  until "$@"; do
    ((SECONDS < until)) || return 1
    sleep 0.1
  done
}

# use_own_prefix NAME: the Wine prefix ${PORTWARDEN_CACHE}/NAME for this test alone (the
# runner reads PORTWARDEN_WINEPREFIX, wineserver WINEPREFIX), with $wineserver of the same
# Wine as the runner; runs of the same test on one machine take turns (flock on fd 8).
use_own_prefix() {
  local cache=${PORTWARDEN_CACHE:-/var/cache/portwarden}
  export PORTWARDEN_WINEPREFIX=$cache/$1
  export WINEPREFIX=$PORTWARDEN_WINEPREFIX
  wineserver=$(dirname "${PORTWARDEN_WINE:-/usr/lib/wine/wine64}")/wineserver
  mkdir -p "$cache"
  exec 8>"$PORTWARDEN_WINEPREFIX.test.lock"
  flock 8
}
