#!/usr/bin/env bash
# Builds the static MinGW-w64 dependency prefix for portwarden's Windows cross-build.
#
#   prefix=$(scripts/windows-deps.sh)      # progress on stderr, the prefix alone on stdout
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake \
#         -DPORTWARDEN_WIN_PREFIX="$prefix"
#
# What it does, each step skipped when already done:
#  1. apt-get installs the cross compiler, wine64, cmake, dpkg-dev and the Debian packages
#     whose headers or sources are reused (googletest, libspdlog-dev, libfmt-dev,
#     nlohmann-json3-dev), and Debian's MinGW zlib (libz-mingw-w64-dev: a static libz.a in
#     the MinGW sysroot /usr/x86_64-w64-mingw32, used from there, not copied).
#  2. Adds a deb-src entry for the Debian archive this machine already uses, if none exists
#     (scripts/deb-src.sh).
#  3. Builds Debian's own bookworm sources of prometheus-cpp (core only), civetweb (with
#     scripts/civetweb/reception.patch) and yaml-cpp, and googletest from
#     /usr/src/googletest, as static MinGW libraries.
#  4. Copies the header-only spdlog, fmt and nlohmann-json into the prefix, so the MinGW
#     build never has to include /usr/include (glibc's headers would break it).
#  5. Creates the Wine prefix that scripts/wine-run.sh runs the tests in.
#
# The prefix lives outside the checkout, in ${PORTWARDEN_CACHE:-/var/cache/portwarden}/
# win-deps-<key>; <key> hashes the exact Debian versions of every source and header package,
# the toolchain's versions and this script and the toolchain file, so any change rebuilds
# into a new prefix while an unchanged setup costs a few apt-cache look-ups.
#
# Environment: PORTWARDEN_CACHE (cache root), PORTWARDEN_JOBS (parallel build jobs, default 2).
set -euo pipefail

readonly triple=x86_64-w64-mingw32
readonly cache=${PORTWARDEN_CACHE:-/var/cache/portwarden}
readonly jobs=${PORTWARDEN_JOBS:-2}
readonly here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly toolchain=$(cd "$here/../cmake/toolchains" && pwd)/mingw-w64-x86_64.cmake
readonly src_packages=(prometheus-cpp civetweb yaml-cpp)
readonly apt_packages=(g++-mingw-w64-x86-64-posix wine64 dpkg-dev patch cmake make xz-utils
                       googletest libspdlog-dev libfmt-dev nlohmann-json3-dev
                       libz-mingw-w64-dev)

log() { printf '[windows-deps] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Stage timing: every stage says how long it took, and the total comes last.
script_start=$SECONDS
stage_name=""
stage_start=0
stage() {
  stage_end
  stage_name=$1
  stage_start=$SECONDS
  log "== $stage_name"
}
stage_end() {
  if [[ -n $stage_name ]]; then
    log "   $stage_name took $((SECONDS - stage_start)) s"
    stage_name=""
  fi
}

apt_get() {
  # Another apt run (the lead's, CI's) may hold the lock; wait for it instead of failing.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}

# --- 1. packages -------------------------------------------------------------------------
stage "packages"
missing=()
for pkg in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  apt_get update -qq >&2
  # No recommends: wine64 would pull in the 32-bit side and desktop integration.
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
  log "all installed"
fi
[[ -x /usr/lib/wine/wine64 ]] || die "/usr/lib/wine/wine64 missing after installing wine64"
command -v ${triple}-g++-posix >/dev/null || die "${triple}-g++-posix missing"

# --- 2. deb-src entry --------------------------------------------------------------------
stage "deb-src"
"$here/deb-src.sh" "${src_packages[@]}" >&2
src_uris=$(apt-get source --print-uris -qq "${src_packages[@]}")

# --- 3. cache key ------------------------------------------------------------------------
stage "cache key"
# The exact version `apt-get source` would fetch, read off the .dsc name it would download.
src_version() {
  awk -v p="$1" '$2 ~ ("^" p "_.*\\.dsc$") { v = $2; sub("^" p "_", "", v); sub(/\.dsc$/, "", v); print v; exit }' <<<"$src_uris"
}
deb_version() { dpkg-query -W -f='${Version}' "$1"; }

declare -A version
for pkg in "${src_packages[@]}"; do
  version[$pkg]=$(src_version "$pkg")
  [[ -n ${version[$pkg]} ]] || die "cannot tell the source version of $pkg"
done
key_input=$(
  for pkg in "${src_packages[@]}"; do echo "source $pkg ${version[$pkg]}"; done
  for pkg in googletest libspdlog-dev libfmt-dev nlohmann-json3-dev libz-mingw-w64-dev \
             g++-mingw-w64-x86-64-posix mingw-w64-x86-64-dev binutils-mingw-w64-x86-64 cmake; do
    echo "deb $pkg $(deb_version "$pkg")"
  done
  echo "compiler $(${triple}-g++-posix -dumpfullversion 2>/dev/null || ${triple}-g++-posix -dumpversion)"
  echo "script $(sha256sum <"${BASH_SOURCE[0]}" | cut -c1-64)"
  echo "patch $(sha256sum <"$here/civetweb/reception.patch" | cut -c1-64)"
  echo "toolchain $(sha256sum <"$toolchain" | cut -c1-64)"
)
key=$(printf '%s\n' "$key_input" | sha256sum | cut -c1-16)
readonly prefix=$cache/win-deps-$key
printf '%s\n' "$key_input" | sed 's/^/   /' >&2
log "prefix: $prefix"

# Creating the Wine prefix takes about 10 s on first use. Doing it here keeps that out of
# the first test run, where it would exceed gtest_discover_tests' 5 s discovery timeout.
warm_wine() {
  stage "wine prefix"
  "$here/wine-run.sh" cmd /c exit 0 || die "wine64 cannot run a Windows program"
}

if [[ -f $prefix/.complete ]]; then
  warm_wine
  stage_end
  log "cached; total $((SECONDS - script_start)) s"
  echo "$prefix"
  exit 0
fi

# One builder at a time per cache; a second caller waits, then finds the prefix done.
mkdir -p "$cache"
exec 9>"$cache/.windows-deps.lock"
flock 9
if [[ -f $prefix/.complete ]]; then
  warm_wine
  stage_end
  echo "$prefix"
  exit 0
fi

# Built into a staging directory and renamed at the end, so a prefix directory with the
# final name is always complete. All CMake package files in it are relocatable.
readonly stage_dir=$prefix.partial
readonly work=$cache/work-$key
# Under the lock no other build runs: whatever is left of an interrupted one goes.
rm -rf "$cache"/win-deps-*.partial "$cache"/work-*
mkdir -p "$stage_dir" "$work"

# --- 4. sources --------------------------------------------------------------------------
stage "sources (apt-get source)"
pkg_specs=()
for pkg in "${src_packages[@]}"; do pkg_specs+=("$pkg=${version[$pkg]}"); done
# dpkg-source (dpkg-dev) unpacks each and applies Debian's patches. As root, apt cannot drop
# to the _apt user for the download into our directory; say so instead of warning.
(cd "$work" && apt-get source -qq -o APT::Sandbox::User=root "${pkg_specs[@]}") \
  >"$work/apt-get-source.log" 2>&1 ||
  { tail -20 "$work/apt-get-source.log" >&2; die "apt-get source ${pkg_specs[*]} failed"; }
src_dir() {
  local upstream=${version[$1]#*:}
  upstream=${upstream%-*}
  echo "$work/$1-$upstream"
}
for pkg in "${src_packages[@]}"; do
  [[ -d $(src_dir "$pkg") ]] || die "$(src_dir "$pkg") missing after apt-get source"
done
# portwarden's reception stage for CivetWeb, as in the Linux build (scripts/civetweb.sh).
patch -d "$(src_dir civetweb)" -p1 --quiet <"$here/civetweb/reception.patch" ||
  die "scripts/civetweb/reception.patch does not apply to civetweb ${version[civetweb]}"

cmake_build() {
  local name=$1 src=$2
  shift 2
  local build=$work/build-$name
  cmake -S "$src" -B "$build" -Wno-dev \
    -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DPORTWARDEN_WIN_PREFIX="$stage_dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$stage_dir" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DBUILD_SHARED_LIBS=OFF \
    "$@" >"$work/$name.configure.log" 2>&1 ||
    { tail -40 "$work/$name.configure.log" >&2; die "$name: configure failed"; }
  cmake --build "$build" --parallel "$jobs" >"$work/$name.build.log" 2>&1 ||
    { tail -40 "$work/$name.build.log" >&2; die "$name: build failed"; }
  cmake --install "$build" >"$work/$name.install.log" 2>&1 ||
    { tail -40 "$work/$name.install.log" >&2; die "$name: install failed"; }
}

# --- 5. builds ---------------------------------------------------------------------------
stage "prometheus-cpp ${version[prometheus-cpp]} (core)"
# Only core: the exporter serves /metrics through its own civetweb server (gzip included),
# and pull/push would drag in curl, which Debian does not ship for MinGW.
cmake_build prometheus-cpp "$(src_dir prometheus-cpp)" \
  -DENABLE_PULL=OFF -DENABLE_PUSH=OFF -DENABLE_COMPRESSION=OFF -DENABLE_TESTING=OFF \
  -DUSE_THIRDPARTY_LIBRARIES=OFF -DGENERATE_PKGCONFIG=OFF

stage "civetweb ${version[civetweb]}"
# The options of debian/rules (C++ wrapper, websockets) plus IPv6, minus TLS: Debian has no
# OpenSSL for MinGW, so CIVETWEB_ENABLE_SSL stays off until OpenSSL is cross-built too.
# CivetWeb polls with select() on Windows, whose fd_set holds FD_SETSIZE sockets (64 unless
# set): room for the reception stage's default 4096 waiting connections and the listeners.
cmake_build civetweb "$(src_dir civetweb)" -DCMAKE_C_FLAGS="-DFD_SETSIZE=4160" \
  -DCIVETWEB_BUILD_TESTING=OFF -DCIVETWEB_ENABLE_SERVER_EXECUTABLE=OFF \
  -DCIVETWEB_INSTALL_EXECUTABLE=OFF -DCIVETWEB_ENABLE_CXX=ON -DCIVETWEB_ENABLE_WEBSOCKETS=ON \
  -DCIVETWEB_ENABLE_IPV6=ON -DCIVETWEB_ENABLE_SSL=OFF -DCIVETWEB_ENABLE_ASAN=OFF

stage "yaml-cpp ${version[yaml-cpp]}"
cmake_build yaml-cpp "$(src_dir yaml-cpp)" \
  -DYAML_BUILD_SHARED_LIBS=OFF -DYAML_CPP_BUILD_TESTS=OFF -DYAML_CPP_BUILD_TOOLS=OFF \
  -DYAML_CPP_BUILD_CONTRIB=ON -DYAML_CPP_INSTALL=ON

stage "googletest $(deb_version googletest)"
cmake_build googletest /usr/src/googletest -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON

# --- 6. header-only libraries ------------------------------------------------------------
stage "headers (spdlog, fmt, nlohmann-json)"
mkdir -p "$stage_dir/include" "$stage_dir/lib/cmake/fmt" "$stage_dir/lib/cmake/spdlog" \
         "$stage_dir/share/cmake"
cp -a /usr/include/spdlog /usr/include/fmt /usr/include/nlohmann "$stage_dir/include/"
# nlohmann-json's own package files are header-only and relocatable: reuse them as they are.
cp -a /usr/share/cmake/nlohmann_json "$stage_dir/share/cmake/"
# Debian builds spdlog against the system fmt (tweakme.h defines SPDLOG_FMT_EXTERNAL), so the
# copied headers include <fmt/...>. Without SPDLOG_COMPILED_LIB spdlog compiles header-only,
# and FMT_HEADER_ONLY makes fmt do the same: no MinGW build of libspdlog or libfmt needed.
# The version files are Debian's own, for the very headers copied above.
cp /usr/lib/x86_64-linux-gnu/cmake/fmt/fmt-config-version.cmake "$stage_dir/lib/cmake/fmt/"
cp /usr/lib/x86_64-linux-gnu/cmake/spdlog/spdlogConfigVersion.cmake "$stage_dir/lib/cmake/spdlog/"
cat >"$stage_dir/lib/cmake/fmt/fmt-config.cmake" <<'EOF'
# fmt, header-only (written by portwarden's scripts/windows-deps.sh).
# Same target names as Debian's libfmt-dev: fmt::fmt and fmt::fmt-header-only.
get_filename_component(_fmt_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET fmt::fmt-header-only)
  add_library(fmt::fmt-header-only INTERFACE IMPORTED)
  set_target_properties(fmt::fmt-header-only PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_fmt_prefix}/include"
    INTERFACE_COMPILE_DEFINITIONS "FMT_HEADER_ONLY=1"
    INTERFACE_COMPILE_FEATURES "cxx_std_11")
endif()
if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES INTERFACE_LINK_LIBRARIES fmt::fmt-header-only)
endif()
unset(_fmt_prefix)
EOF
cat >"$stage_dir/lib/cmake/spdlog/spdlogConfig.cmake" <<'EOF'
# spdlog, header-only on header-only fmt (written by portwarden's scripts/windows-deps.sh).
# Same target names as Debian's libspdlog-dev: spdlog::spdlog and spdlog::spdlog_header_only.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(fmt CONFIG)
get_filename_component(_spdlog_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET spdlog::spdlog_header_only)
  add_library(spdlog::spdlog_header_only INTERFACE IMPORTED)
  set_target_properties(spdlog::spdlog_header_only PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_spdlog_prefix}/include"
    INTERFACE_COMPILE_DEFINITIONS "SPDLOG_FMT_EXTERNAL"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;fmt::fmt-header-only")
endif()
if(NOT TARGET spdlog::spdlog)
  add_library(spdlog::spdlog INTERFACE IMPORTED)
  set_target_properties(spdlog::spdlog PROPERTIES
    INTERFACE_LINK_LIBRARIES spdlog::spdlog_header_only)
endif()
unset(_spdlog_prefix)
EOF

# --- 7. publish --------------------------------------------------------------------------
stage "publish"
printf '%s\n' "$key_input" >"$stage_dir/.versions"
touch "$stage_dir/.complete"
rm -rf "$prefix"
mv "$stage_dir" "$prefix"
rm -rf "$work"
# Prefixes of other versions stay for other checkouts (about 6 MB each), the 3 newest only.
ls -1dt "$cache"/win-deps-* | grep -v '\.partial$' | tail -n +4 | xargs -r rm -rf || true
warm_wine
stage_end
log "done; total $((SECONDS - script_start)) s"
echo "$prefix"
