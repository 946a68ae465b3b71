#!/bin/sh
# Runs a Windows program under Debian's 64-bit Wine, headless, in portwarden's own Wine
# prefix. Used as CMAKE_CROSSCOMPILING_EMULATOR by cmake/toolchains/mingw-w64-x86_64.cmake,
# so ctest and gtest_discover_tests run the cross-built .exe files through it.
#
#   scripts/wine-run.sh build-win/tests/unit/listeners/win_tables_test.exe --gtest_brief=1
#
# Environment:
#   PORTWARDEN_WINEPREFIX  the Wine prefix (default ${PORTWARDEN_CACHE}/wineprefix)
#   PORTWARDEN_CACHE       cache root (default /var/cache/portwarden)
#   PORTWARDEN_WINE        the Wine loader (default /usr/lib/wine/wine64)
#   WINEDEBUG              default -all: Wine's fixme/err chatter would drown test output
set -eu

wine=${PORTWARDEN_WINE:-/usr/lib/wine/wine64}
cache=${PORTWARDEN_CACHE:-/var/cache/portwarden}
WINEPREFIX=${PORTWARDEN_WINEPREFIX:-$cache/wineprefix}
WINEDEBUG=${WINEDEBUG:--all}
# No Mono or Gecko: without this, the first wineboot asks (in a window) to download them.
WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
export WINEPREFIX WINEDEBUG WINEDLLOVERRIDES
# Headless: never open a window on the developer's display, and behave the same in CI.
unset DISPLAY WAYLAND_DISPLAY

if [ ! -x "$wine" ]; then
  echo "wine-run.sh: $wine not found; run scripts/windows-deps.sh (installs wine64)" >&2
  exit 127
fi

# First use creates the prefix (about 10 s). ctest -j runs several tests at once, so the
# creation is serialised with a lock and marked done only once wineserver has flushed the
# registry to disk; a half-made prefix from an interrupted run is made again.
ready="$WINEPREFIX/.portwarden-ready"
if [ ! -f "$ready" ]; then
  mkdir -p "$(dirname "$WINEPREFIX")"
  (
    flock 9
    if [ ! -f "$ready" ]; then
      rm -rf "$WINEPREFIX"
      # wineboot's stderr names the missing 32-bit side (no wine32); it is not an error
      # for 64-bit programs, so it goes to a log instead of the test output.
      "$wine" wineboot --init >"$WINEPREFIX.boot.log" 2>&1
      "$(dirname "$wine")/wineserver" -w
      touch "$ready"
    fi
  ) 9>"$WINEPREFIX.lock"
fi

exec "$wine" "$@"
