/**
 * Steady state and latency: drives the mixed load (bench/load.ts) at a target rate against a
 * running sync pipeline and decides whether the pipeline kept up, from marker changes whose
 * commit-to-searchable time is measured the whole time.
 *
 * Kept up = the generator reached 95% of the target rate, every marker became searchable, markers
 * committed in the step's last third were searchable within `lagLimitSeconds` (a pipeline that
 * falls behind shows a lag that grows with time), and the last marker was searchable within
 * `lagLimitSeconds` after the load stopped.
 */
import type { Client as Elastic } from "@elastic/elasticsearch";
import type { BulkAcks } from "./acks";
import type { CpuBudget } from "./cpu";
import { type LoadResult, type Marker, MarkerTracker, percentile, runLoad } from "./load";
import { AUTHORS } from "./seed";

export interface StepOptions {
  url: string;
  rows: number;
  es: Elastic;
  /** The index (or alias) the pipeline keeps in sync. */
  index: string;
  rate: number;
  seconds: number;
  lagLimitSeconds: number;
  markersPerSecond: number;
  tag: string;
  /** Records when the engine acknowledged each marker's write (the consumers' `_bulk` answers). */
  acks?: BulkAcks;
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface StepResult {
  targetRate: number;
  achievedRate: number;
  seconds: number;
  changes: number;
  byKind: Record<string, number>;
  /** Commit → searchable (a search finds the marker; includes the index's refresh interval). */
  latency: LatencySummary;
  /** Commit → acknowledged (the consumer received the engine's answer to the marker's write). */
  acknowledged?: LatencySummary;
  /** p95 lag of the markers committed in the last third of the step. */
  lateP95: number;
  /** Seconds from the end of the load until the last marker was searchable. */
  drainSeconds: number;
  unseen: number;
  keptUp: boolean;
  /** When the load began and ended (ms since epoch). */
  window: { from: number; to: number };
  /** Cores each process group used while the load ran (bench/cpu.ts; Linux only). */
  cpu?: CpuBudget;
}

/** One line on a step, for the log. */
export function stepLine(step: StepResult): string {
  const ack = step.acknowledged?.samples
    ? `, acknowledged p50 ${step.acknowledged.p50} s p99 ${step.acknowledged.p99} s`
    : "";
  return `achieved ${step.achievedRate}/s, searchable p50 ${step.latency.p50} s p99 ${step.latency.p99} s${ack}, late p95 ${step.lateP95} s, drain ${step.drainSeconds} s, unseen ${step.unseen} -> ${step.keptUp ? "kept up" : "fell behind"}`;
}

const round = (v: number, digits = 2) => (Number.isFinite(v) ? +v.toFixed(digits) : v);

/**
 * Latency percentiles in seconds of the markers that became searchable (or, with `"ackedAt"`,
 * whose write the engine acknowledged).
 */
export function summarise(markers: Marker[], at: "seenAt" | "ackedAt" = "seenAt"): LatencySummary {
  const lags = markers.filter((m) => m[at] !== undefined).map((m) => ((m[at] ?? 0) - m.committedAt) / 1000);
  return {
    samples: lags.length,
    p50: round(percentile(lags, 50)),
    p95: round(percentile(lags, 95)),
    p99: round(percentile(lags, 99)),
    max: round(Math.max(...lags, 0)),
  };
}

/** One load step at `rate` for `seconds`, then waits for the markers (at most 3× the lag limit). */
export async function runStep(o: StepOptions): Promise<StepResult & { markers: Marker[] }> {
  const markers: Marker[] = [];
  const tracker = new MarkerTracker(o.es, o.index, markers);
  tracker.start();
  o.acks?.track(o.tag);
  const started = Date.now();
  let load: LoadResult;
  try {
    load = await runLoad(
      {
        url: o.url,
        rows: o.rows,
        authors: Math.min(AUTHORS, o.rows),
        rate: o.rate,
        seconds: o.seconds,
        // Small rates in single-row transactions, so the generator's granularity does not count.
        rowsPerTransaction: Math.max(1, Math.min(10, Math.floor(o.rate / 100))),
        markersPerSecond: Math.max(1, Math.min(o.markersPerSecond, o.rate / 10)),
        tag: o.tag,
      },
      markers,
    );
    const loadEnded = Date.now();
    const drainDeadline = loadEnded + o.lagLimitSeconds * 3000;
    while (tracker.pending > 0 && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 100));
    const seen = markers.filter((m) => m.seenAt !== undefined);
    const lastSeen = Math.max(loadEnded, ...seen.map((m) => m.seenAt ?? 0));
    const lateFrom = started + (o.seconds * 1000 * 2) / 3;
    const late = markers.filter((m) => m.committedAt >= lateFrom);
    const lateLags = late.map((m) => ((m.seenAt ?? Number.POSITIVE_INFINITY) - m.committedAt) / 1000);
    const lateP95 = percentile(lateLags, 95);
    const drainSeconds = (lastSeen - loadEnded) / 1000;
    const unseen = markers.length - seen.length;
    if (o.acks) for (const m of markers) m.ackedAt = o.acks.ackedAt(m.value);
    const keptUp =
      load.achievedRate >= 0.95 * o.rate &&
      unseen === 0 &&
      lateP95 <= o.lagLimitSeconds &&
      drainSeconds <= o.lagLimitSeconds;
    return {
      targetRate: o.rate,
      achievedRate: Math.round(load.achievedRate),
      seconds: round(load.seconds, 1),
      changes: load.changes,
      byKind: load.byKind,
      latency: summarise(markers),
      ...(o.acks ? { acknowledged: summarise(markers, "ackedAt") } : {}),
      lateP95: round(lateP95),
      drainSeconds: round(drainSeconds),
      unseen,
      keptUp,
      window: { from: started, to: loadEnded },
      markers,
    };
  } finally {
    await tracker.stop();
    o.acks?.untrack(o.tag);
  }
}

export interface SearchResult {
  /** The highest rate that was kept up (0 when none). */
  sustained: number;
  /** True when the highest rate tried was kept up: the real limit is higher. */
  lowerBound: boolean;
  /** When nothing was kept up, the limit is below this. */
  lowestTried: number;
  steps: StepResult[];
}

/**
 * Doubles the rate from `start` while the pipeline keeps up; when the first step fails, halves
 * instead, down to `minRate`. Stops after `maxSteps` steps or once `budgetSeconds` have passed.
 * `between` runs before each further step (e.g. to clear a backlog the last step left).
 */
export async function searchRate(
  base: Omit<StepOptions, "rate">,
  search: { start: number; maxSteps: number; minRate: number; budgetSeconds: number },
  log: (line: string) => void,
  between?: (step: StepResult) => Promise<void>,
): Promise<SearchResult> {
  const { start, maxSteps, minRate } = search;
  const deadline = Date.now() + search.budgetSeconds * 1000;
  const steps: StepResult[] = [];
  let rate = start;
  let direction: 1 | -1 | 0 = 0;
  for (let i = 0; i < maxSteps; i++) {
    const { markers: _markers, ...step } = await runStep({ ...base, rate, tag: `${base.tag}-${rate}` });
    steps.push(step);
    log(`  ${rate}/s: ${stepLine(step)}`);
    if (direction === 0) direction = step.keptUp ? 1 : -1;
    if (direction === 1 && !step.keptUp) break;
    if (direction === -1 && step.keptUp) break;
    const next = direction === 1 ? rate * 2 : Math.floor(rate / 2);
    if (next < minRate || i === maxSteps - 1 || Date.now() > deadline) break;
    await between?.(step);
    rate = next;
  }
  const kept = steps.filter((s) => s.keptUp).map((s) => s.targetRate);
  const sustained = kept.length > 0 ? Math.max(...kept) : 0;
  const highestTried = Math.max(...steps.map((s) => s.targetRate));
  const lowestTried = Math.min(...steps.map((s) => s.targetRate));
  return { sustained, lowerBound: sustained === highestTried, lowestTried, steps };
}
