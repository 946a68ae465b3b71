#!/usr/bin/env bash
# One command to run portwarden on this machine: installs what is missing, builds, and
# starts the daemon on :10061 with packaging/portwarden.yml. Extra flags are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/exporter/portwarden --config.file=packaging/portwarden.yml "$@"
