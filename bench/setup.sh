#!/usr/bin/env bash
# Installs, from Debian 12's archive, the tools the benchmark compares portwarden with
# (ss is in iproute2, which the main install-deps.sh already installs). Idempotent.
set -euo pipefail
packages=(iproute2 net-tools lsof)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "bench/setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
