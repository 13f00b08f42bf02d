#!/usr/bin/env bash
# The whole test suite: type-check, lint, unit and integration tests against the real local services.
# Installs what is missing (npm packages, Debian packages, Maven artifacts, moto), starts the services
# that are not running, and stops the ones it started, also when tests fail. The last line printed
# is the summary, `N passed, N failed[, N skipped]`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh || exit 1
mkdir -p .slotsync
started_file=.slotsync/started-by-test
results=.slotsync/test-results.json
rm -f "$started_file" "$results"

finish() {
  local status=$?
  if [ -s "$started_file" ]; then
    # shellcheck disable=SC2046
    npx tsx scripts/services.ts stop $(cat "$started_file") || true
  fi
  if [ -f "$results" ]; then
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
      console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
    ' "$results"
  fi
  exit "$status"
}
trap finish EXIT

echo "[test] type-check"
npx tsc --noEmit -p tsconfig.json || exit 1
echo "[test] lint"
npx biome check . || exit 1

echo "[test] services"
npx tsx scripts/services.ts start --started-file "$started_file" || exit 1

echo "[test] vitest"
SLOTSYNC_SERVICES_QUIET=1 npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
