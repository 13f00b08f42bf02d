#!/usr/bin/env bash
# The main job: installs what is missing, starts the real local services and shows them healthy.
# (The live bookstore sync demo builds on this.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsx scripts/services.ts start
echo
echo "Services are running. Endpoints for slotsync (also: npm run services -- env):"
npx tsx scripts/services.ts env
echo
echo "Stop them with: npm run services -- stop"
