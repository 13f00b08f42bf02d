#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci"
  # Some npm 11 releases write lock files without other platforms' optional packages and then
  # refuse them in `npm ci`; `npm install` installs the same locked versions.
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/dev/null; then
    echo "[setup] npm ci refused the lock file; npm install instead"
    npm install --no-audit --no-fund --loglevel=error
  fi
fi
