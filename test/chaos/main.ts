/**
 * `npm run chaos -- [--duration 120] [--connections 32] [--seed 1] [--consumers 3] [--books 3000] [--operations 6]`
 * Prints the counts as JSON and every difference found; exits 1 when there is any.
 */
import { DEFAULT_CHAOS, runChaos } from "./run";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value)) {
    console.error(`--${name} takes a number`);
    process.exit(2);
  }
  return value;
}

// Ctrl-C stops the load early; the run still drains, compares and cleans up.
const interrupt = new AbortController();
process.once("SIGINT", () => interrupt.abort());

const report = await runChaos({
  ...DEFAULT_CHAOS,
  durationSeconds: flag("duration", DEFAULT_CHAOS.durationSeconds),
  connections: flag("connections", DEFAULT_CHAOS.connections),
  seed: flag("seed", DEFAULT_CHAOS.seed),
  consumers: flag("consumers", DEFAULT_CHAOS.consumers),
  books: flag("books", DEFAULT_CHAOS.books),
  operationEverySeconds: flag("operations", DEFAULT_CHAOS.operationEverySeconds),
  log: (line) => console.error(`[chaos] ${line}`),
  signal: interrupt.signal,
});
const { differences, ...counts } = report;
console.log(JSON.stringify(counts, null, 2));
for (const d of differences.slice(0, 50)) console.log(JSON.stringify(d));
process.exitCode = report.differentCount === 0 ? 0 : 1;
