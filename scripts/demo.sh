#!/usr/bin/env bash
# The main job: installs what is missing, starts the real local services, creates a sample
# bookstore, bootstraps it into Elasticsearch and shows changes becoming searchable, live.
#   npm run demo -- [--books N] [--exit]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec npx tsx scripts/demo.ts "$@"
