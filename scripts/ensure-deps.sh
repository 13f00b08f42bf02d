#!/usr/bin/env bash
# Installs the npm dependencies from the committed lock file when node_modules is missing or older
# than it. The lock file lists every platform's optional packages, so `npm ci` works on Linux and
# macOS alike; if it refuses, the lock file is out of date and must be fixed, not worked around.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
