#!/usr/bin/env bash
# Installs, from Debian 12's archive, whatever portwarden needs to build, run and test and
# is not installed yet. Idempotent: a second run installs nothing.
#   scripts/install-deps.sh            build + run + test dependencies
set -euo pipefail

packages=(
  g++ make cmake pkgconf ca-certificates git ccache
  # CivetWeb is built from Debian's source package (scripts/civetweb.sh): dpkg-dev, patch
  dpkg-dev patch
  prometheus-cpp-dev libspdlog-dev libyaml-cpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libssl-dev openssl zlib1g-dev
  # the bind watch's eBPF program: compiled by clang, embedded by bpftool, loaded by libbpf
  clang libbpf-dev bpftool
  # tests: promtool and the real servers, ss to cross-check owners, curl for humans
  prometheus prometheus-alertmanager iproute2 procps curl
  # the bind watch test: a real nginx failing to bind a held port; setpriv (util-linux)
  nginx-light util-linux
  # published ports: real port proxies (pasta from Debian's passt, slirp4netns) forward a
  # host port into a namespace made by the test
  passt slirp4netns
  # a real rootful podman container (runc: crun refuses hybrid cgroup hosts), its image
  # imported from busybox-static (no registry needed)
  podman runc busybox-static
  # ports published by DNAT alone: rules written with nft (iptables-nft comes with podman)
  nftables
  # socket activation: systemd-socket-activate, and systemd itself booted in a namespace
  systemd
  # the status page test: headless Chromium, driven by playwright-core on Node.js
  chromium fonts-liberation nodejs
)
# Debian ships npm apart from nodejs; a nodejs that bundles it (NodeSource) conflicts with it.
command -v npm >/dev/null || packages+=(npm)

# The browser test's npm packages, exactly as locked, into tests/browser/node_modules.
# Offline-safe: nothing is fetched when the locked version is installed already.
# playwright-core never downloads a browser: the test points it at /usr/bin/chromium.
npm_ci() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  if node -e 'const d = process.argv[1];
      const want = require(d + "/package-lock.json").packages["node_modules/playwright-core"].version;
      process.exit(require(d + "/node_modules/playwright-core/package.json").version === want ? 0 : 1)' \
      "$dir" 2>/dev/null; then
    return 0
  fi
  echo "install-deps: npm ci in $dir" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline >/dev/null)
}

# docker-proxy, Docker's userland port proxy, for the published-port test: taken out of
# Debian's docker.io package into the cache (no Docker engine is installed or started).
docker_proxy() {
  local dir="${PORTWARDEN_CACHE:-/var/cache/portwarden}/docker-proxy" tmp
  [ -x "$dir/docker-proxy" ] && return 0
  echo "install-deps: docker-proxy from Debian's docker.io into $dir" >&2
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root docker.io)
  $sudo mkdir -p "$dir"
  dpkg-deb --fsys-tarfile "$tmp"/docker.io_*.deb | tar -xO ./usr/sbin/docker-proxy >"$tmp/docker-proxy"
  $sudo install -m 755 "$tmp/docker-proxy" "$dir/docker-proxy"
  rm -rf "$tmp"
}

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# After the packages: the browser test's npm packages, docker-proxy, and CivetWeb's source
# package.
finish() {
  npm_ci
  docker_proxy
  "$(dirname "$0")/deb-src.sh" civetweb
}
if [ ${#missing[@]} -eq 0 ]; then
  finish
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Debian's prometheus packages start their services on install; a build machine wants
# the binaries only. policy-rc.d keeps invoke-rc.d from starting anything meanwhile.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  created_policy=1
fi
trap '[ -n "$created_policy" ] && $sudo rm -f "$policy"' EXIT
# Another apt (a second checkout installing, unattended-upgrades) holds the lock: wait for it.
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
finish
