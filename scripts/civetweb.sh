#!/usr/bin/env bash
# Builds the CivetWeb that portwarden's Linux build links: Debian's own civetweb source
# package (apt-get source), with IPv6 (Debian's libcivetweb-dev is built without it), TLS
# linked against Debian's OpenSSL 3, and portwarden's reception stage
# (scripts/civetweb/reception.patch: idle and slow clients wait without a worker thread), as
# a static library with its CMake package files. Prints the prefix on stdout:
#
#   prefix=$(scripts/civetweb.sh)    # then cmake -DCMAKE_PREFIX_PATH="$prefix"
#
# CMakeLists.txt runs it at configure time. It needs dpkg-dev, patch, cmake, a C compiler,
# libssl-dev and a deb-src entry, which scripts/install-deps.sh installs and writes. The
# prefix is ${PORTWARDEN_CACHE:-/var/cache/portwarden}/civetweb-<key> (or, when that is not
# writable, ~/.cache/portwarden), <key> hashing the source version, the patch, this script
# and the compiler's and OpenSSL's versions: an unchanged setup costs one apt-cache look-up.
set -euo pipefail

readonly here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly patch_file=$here/civetweb/reception.patch
cache=${PORTWARDEN_CACHE:-/var/cache/portwarden}
mkdir -p "$cache" 2>/dev/null && [[ -w $cache ]] || cache=$HOME/.cache/portwarden
mkdir -p "$cache"

log() { printf '[civetweb] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

dsc=$(apt-get source --print-uris -qq civetweb 2>/dev/null | awk '$2 ~ /^civetweb_.*\.dsc$/ { print $2; exit }') ||
  true
[[ -n $dsc ]] || die "apt-get source finds no civetweb source package: run scripts/install-deps.sh (it adds a deb-src entry)"
version=${dsc#civetweb_}
version=${version%.dsc}
key=$( {
  echo "source civetweb $version"
  echo "patch $(sha256sum <"$patch_file")"
  echo "script $(sha256sum <"${BASH_SOURCE[0]}")"
  echo "cc $(cc -dumpfullversion 2>/dev/null || cc -dumpversion)"
  echo "openssl $(dpkg-query -W -f='${Version}' libssl-dev)"
} | sha256sum | cut -c1-16)
readonly prefix=$cache/civetweb-$key
if [[ -f $prefix/.complete ]]; then
  echo "$prefix"
  exit 0
fi

exec 9>"$cache/.civetweb.lock"
flock 9
if [[ ! -f $prefix/.complete ]]; then
  work=$(mktemp -d "$cache/civetweb-work.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  log "building civetweb $version into $prefix"
  (cd "$work" && apt-get source -qq -o APT::Sandbox::User=root "civetweb=$version") \
    >"$work/source.log" 2>&1 || { tail -20 "$work/source.log" >&2; die "apt-get source civetweb failed"; }
  upstream=${version#*:}
  src=$work/civetweb-${upstream%-*}
  patch -d "$src" -p1 --quiet <"$patch_file" || die "$patch_file does not apply to civetweb $version"
  rm -rf "$prefix"
  # Debian's options (debian/rules) less what portwarden does not use (the C++ wrapper,
  # websockets), plus IPv6, and OpenSSL linked instead of dlopen()ed by its 1.1 names.
  cmake -S "$src" -B "$work/build" -Wno-dev -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF \
    -DCIVETWEB_BUILD_TESTING=OFF -DCIVETWEB_ENABLE_SERVER_EXECUTABLE=OFF \
    -DCIVETWEB_INSTALL_EXECUTABLE=OFF -DCIVETWEB_ENABLE_CXX=OFF -DCIVETWEB_ENABLE_ASAN=OFF \
    -DCIVETWEB_ENABLE_IPV6=ON -DCIVETWEB_ENABLE_SSL=ON \
    -DCIVETWEB_ENABLE_SSL_DYNAMIC_LOADING=OFF -DCIVETWEB_SSL_OPENSSL_API_1_1=OFF \
    -DCMAKE_C_FLAGS="-DOPENSSL_API_3_0" >"$work/configure.log" 2>&1 ||
    { tail -30 "$work/configure.log" >&2; die "configure failed"; }
  cmake --build "$work/build" --parallel "${PORTWARDEN_JOBS:-2}" >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log" >&2; die "build failed"; }
  cmake --install "$work/build" >"$work/install.log" 2>&1 ||
    { tail -30 "$work/install.log" >&2; die "install failed"; }
  touch "$prefix/.complete"
fi
echo "$prefix"
