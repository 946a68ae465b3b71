#!/usr/bin/env bash
# Builds portwarden's MSI on a fresh Debian 12: installs what is missing (MinGW-w64, Wine and
# the cached dependency build through windows-deps.sh; wixl and msibuild from Debian's
# msitools), cross-builds portwarden.exe into build-win/ (incrementally: only what changed)
# and packs it with packaging/windows/portwarden.wxs. Prints the MSI's path.
#
#   msi=$(scripts/package-windows.sh)   # progress on stderr, the MSI's path alone on stdout
#
# Then, on Windows, from an elevated prompt:
#   msiexec /i portwarden-0.1.0-x64.msi /qn LISTEN_PORT=10061
#
# scripts/test-windows.sh runs this first, so CI builds the MSI and tests it under Wine.
#
# Environment:
#   PORTWARDEN_WIN_BUILD_DIR  build directory (default build-win)
#   PORTWARDEN_JOBS           parallel build jobs (default 2)
#   PORTWARDEN_CACHE          dependency prefix and Wine prefixes (default /var/cache/portwarden)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${PORTWARDEN_WIN_BUILD_DIR:-build-win}
jobs=${PORTWARDEN_JOBS:-2}
# msitools has msibuild and msiinfo, wixl the compiler (a package of its own in bookworm).
readonly msi_packages=(msitools wixl)

stage() {
  local name=$1
  shift
  local start=$SECONDS
  echo "=== windows: $name" >&2
  "$@" >&2
  echo "=== windows: $name took $((SECONDS - start))s" >&2
}

install_dependencies() {
  # The MinGW toolchain, Wine and the static MinGW builds of the libraries (cached).
  prefix=$(scripts/windows-deps.sh)
  local missing=() pkg
  for pkg in "${msi_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
      install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

configure() {
  cmake -S . -B "$build" \
    -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake \
    -DPORTWARDEN_WIN_PREFIX="$prefix" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_EXE_LINKER_FLAGS_RELEASE=-s >/dev/null
}

# Everything: portwarden.exe, its MSI and the Windows tests (the MSI test needs both).
compile() {
  cmake --build "$build" --parallel "$jobs"
  ls -l "$build/exporter/portwarden.exe" "$build"/portwarden-*-x64.msi
}

stage "dependencies (windows-deps.sh, msitools, wixl)" install_dependencies
stage "configure ($build, MinGW-w64, Release)" configure
stage "build (portwarden.exe, MSI, tests)" compile
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
msi=$build/portwarden-$version-x64.msi
[[ -f $msi ]] || { echo "package-windows.sh: $msi was not built" >&2; exit 1; }
echo "$msi"
