# Sourced by the *_wine_test.sh scripts: waiting with a deadline instead of sleeping.

# poll COMMAND...: runs COMMAND every 100 ms until it succeeds; fails after $deadline seconds
# (each script sets its own deadline).
poll() {
  local until=$((SECONDS + deadline))
  until "$@"; do
    ((SECONDS < until)) || return 1
    sleep 0.1
  done
}
