/**
 * The benchmark's report: the result as JSON, a Markdown table with ratios and targets met or
 * missed, and a PNG chart drawn with matplotlib from the benchmark's virtual environment.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { BootstrapBenchResult } from "./bootstrap";
import type { CostModel } from "./cost";
import { type EconomyResult, economyMarkdown } from "./economy";
import { pgsyncFigure, pgsyncStepRows } from "./pgsync-report";
import type { PgsyncSteadyResult, PgsyncVariant } from "./pgsync-steady";
import type { PipelineCounters } from "./pipeline";
import type { PollerMemoryResult } from "./poller";
import type { LatencySummary, SearchResult, StepResult } from "./steady";

/** The targets (issues #11 and #23). */
export const TARGETS = {
  bootstrapRatioToCeiling: 0.7,
  bootstrapRatioToPgsync: 5,
  steadyRatioToPgsync: 5,
  /** Commit → searchable, p99, at 1,000 changes/s with the latency mode's scheduled runs. */
  latencyP99Seconds: 2.5,
  /** Commit → acknowledged by the engine, p99, at the same load. */
  acknowledgedP99Seconds: 1.5,
  /** Scheduled hand-overs the latency window must span. */
  latencyHandOvers: 3,
  pollerRssMb: 256,
  /** Economy mode's variable idle cost per month (compute, requests, SQS, Upstash), USD. */
  economyIdleUsdPerMonth: 1,
  /** Worst case, economy mode: the first change after an idle spell searchable within this. */
  firstChangeAfterIdleSeconds: 65,
} as const;

export interface BenchResult {
  date: string;
  command: string;
  machine: { cpus: number; node: string };
  settings: Record<string, number>;
  wallSeconds: number;
  stages: Record<string, number>;
  targets: typeof TARGETS;
  bootstrap: {
    rows: number;
    slotsync: BootstrapBenchResult["bootstrap"];
    ceiling: BootstrapBenchResult["ceiling"];
    pgsync: {
      documents: number;
      seconds: number;
      documentsPerSecond: number;
      complete: boolean;
      setupSeconds: number;
      timeLimitSeconds: number;
    };
    details: BootstrapBenchResult;
    ratioToCeiling: number;
    ratioToPgsync: number;
  };
  steady: {
    slotsync: SearchResult;
    /** PGSync's daemon with and without the through-table child (bench/pgsync-steady.ts). */
    pgsync: PgsyncSteadyResult;
    /** slotsync's kept-up rate over PGSync's, per schema variant. */
    ratios: Partial<Record<PgsyncVariant, number>>;
    mix: string;
  };
  latency: {
    rate: number;
    /** Commit → searchable with the latency mode's scheduled runs. */
    scheduled: LatencySummary;
    /** Commit → acknowledged by the engine, same runs. */
    scheduledAcknowledged: LatencySummary;
    /** The schedule period and run length the poller ran with, and the hand-overs in the window. */
    schedule: { periodSeconds: number; runSeconds: number; handOvers: number; maxGapMs: number };
    continuous: LatencySummary;
    pgsync?: LatencySummary;
    pgsyncRate?: number;
    step: StepResult;
    withBatchingWindow: LatencySummary;
  };
  pollerMemory: PollerMemoryResult;
  economy: EconomyResult;
  counts: {
    windowSeconds: number;
    changes: number;
    pipeline: PipelineCounters;
    sqs: Record<string, number>;
    upstashCommands: number;
    idle: { upstashPerSecond: number; sqs: Record<string, number> };
  };
  cost: CostModel;
}

const n = (v: number) => v.toLocaleString("en-US");
const met = (ok: boolean) => (ok ? "met" : "**missed**");
/** A lag that JSON stored as null: some marker never became searchable. */
const seconds = (v: number | null) => (v === null || !Number.isFinite(v) ? "never" : String(v));
const usd = (v: number) => `$${v < 1 ? v.toFixed(4) : v.toFixed(2)}`;

/** The Markdown summary of a result. */
export function markdown(r: BenchResult): string {
  const t = r.targets;
  const b = r.bootstrap;
  const s = r.steady;
  const l = r.latency;
  const e = r.economy;
  // Only the first step starts from an idle pipeline; a later one may begin with what the step
  // before left in flight, so a pipeline that never kept up is bounded by its first step.
  const rate = (x: SearchResult) =>
    x.sustained === 0
      ? `< ${n(x.steps[0]?.targetRate ?? 0)} changes/s (fell behind from an idle start at ${n(x.steps[0]?.targetRate ?? 0)}/s and at every lower rate tried)`
      : `${n(x.sustained)}${x.lowerBound ? "+" : ""} changes/s`;
  const sc = l.schedule;
  const schedule = `a run every ${sc.periodSeconds} s${sc.periodSeconds < 60 ? " instead of 60 s, to see more hand-overs" : ""}, runs of ${sc.runSeconds} s, no batching window; ${sc.handOvers} hand-overs in the window, longest ${sc.maxGapMs} ms without a holder`;
  const enoughHandOvers = sc.handOvers >= t.latencyHandOvers;
  const pgPartial = b.pgsync.complete
    ? ""
    : ` (stopped after ${b.pgsync.seconds} s at ${n(b.pgsync.documents)} documents)`;
  const rows = [
    "| measure | slotsync | reference | ratio | target | |",
    "| --- | --- | --- | --- | --- | --- |",
    `| bootstrap, ${n(b.rows)} books | ${n(b.slotsync.documentsPerSecond)} docs/s | bulk ceiling ${n(b.ceiling.documentsPerSecond)} docs/s (${n(b.ceiling.before)} before it, ${n(b.ceiling.after)} after) | ${b.ratioToCeiling.toFixed(2)} | ≥ ${t.bootstrapRatioToCeiling} | ${met(b.ratioToCeiling >= t.bootstrapRatioToCeiling)} |`,
    `| bootstrap vs PGSync | ${n(b.slotsync.documentsPerSecond)} docs/s | PGSync ${n(b.pgsync.documentsPerSecond)} docs/s${pgPartial} | ${b.ratioToPgsync.toFixed(1)}× | ≥ ${t.bootstrapRatioToPgsync}× | ${met(b.ratioToPgsync >= t.bootstrapRatioToPgsync)} |`,
    ...s.pgsync.variants.map((v) => {
      const ratio = s.ratios[v.variant] ?? 0;
      const bound = s.slotsync.lowerBound || v.best.sustained === 0 ? "≥ " : "";
      const p99 = v.best.step ? `, p99 ${v.best.step.latency.p99} s` : "";
      return `| steady state (kept up for ${r.settings.steadySeconds} s) vs PGSync ${v.variant} (${n(v.books)} books, ${v.best.tuning}) | ${rate(s.slotsync)} | PGSync daemon ${pgsyncFigure(v)}${p99} | ${bound}${ratio.toFixed(1)}× | ≥ ${t.steadyRatioToPgsync}× | ${met(ratio >= t.steadyRatioToPgsync)} |`;
    }),
    `| commit → searchable at ${n(l.rate)}/s, latency mode (${schedule}) | p50 ${l.scheduled.p50} s, p95 ${l.scheduled.p95} s, p99 ${l.scheduled.p99} s | | | p99 ≤ ${t.latencyP99Seconds} s, ≥ ${t.latencyHandOvers} hand-overs | ${met(l.scheduled.p99 <= t.latencyP99Seconds && enoughHandOvers)} |`,
    `| commit → acknowledged by the engine, same runs | p50 ${l.scheduledAcknowledged.p50} s, p95 ${l.scheduledAcknowledged.p95} s, p99 ${l.scheduledAcknowledged.p99} s | | | p99 ≤ ${t.acknowledgedP99Seconds} s, ≥ ${t.latencyHandOvers} hand-overs | ${met(l.scheduledAcknowledged.p99 <= t.acknowledgedP99Seconds && enoughHandOvers)} |`,
    `| commit → searchable at ${n(l.rate)}/s, poller always polling | p50 ${l.continuous.p50} s, p95 ${l.continuous.p95} s, p99 ${l.continuous.p99} s | ${l.pgsync ? `PGSync at ${n(l.pgsyncRate ?? 0)}/s: p50 ${l.pgsync.p50} s, p99 ${l.pgsync.p99} s` : ""} | | p99 ≤ ${t.latencyP99Seconds} s | ${met(l.continuous.p99 <= t.latencyP99Seconds)} |`,
    `| same, poller always polling, 2 s batching window (the former default) | p50 ${l.withBatchingWindow.p50} s, p95 ${l.withBatchingWindow.p95} s, p99 ${l.withBatchingWindow.p99} s | | | p99 ≤ ${t.latencyP99Seconds} s | ${met(l.withBatchingWindow.p99 <= t.latencyP99Seconds)} |`,
    `| poller peak RSS, ${n(r.pollerMemory.rows)}-row transaction (heap cap ${r.pollerMemory.heapMb} MB) | ${r.pollerMemory.peakRssMb} MB (${n(r.pollerMemory.changesPerSecond)} changes/s) | | | ≤ ${t.pollerRssMb} MB | ${met(r.pollerMemory.peakRssMb <= t.pollerRssMb)} |`,
    `| cost per million changes (AWS + Upstash) | ${usd(r.cost.perMillionChanges.totalUsd)} | | | | |`,
    `| idle cost per month, economy mode (compute, requests, SQS, Upstash) | ${usd(e.monthly.economy.totalUsd)} | latency mode ${usd(e.monthly.latency.totalUsd)} | | ≤ $${t.economyIdleUsdPerMonth} | ${met(e.monthly.economy.totalUsd <= t.economyIdleUsdPerMonth)} |`,
    `| first change after idle runs, economy mode, worst case with rate(1 minute) | searchable within ${e.firstChange.worstCaseSeconds} s (${e.firstChange.searchableMs} ms after its run starts) | | | ≤ ${t.firstChangeAfterIdleSeconds} s | ${met(e.firstChange.worstCaseSeconds <= t.firstChangeAfterIdleSeconds)} |`,
    `| fixed cost per month, either mode (KMS key, secret, alarms, dashboard, metrics) | ${usd(e.monthly.fixed.totalUsd)} | | | | |`,
  ];
  const steps = (name: string, x: SearchResult) =>
    x.steps.map(
      (st) =>
        `| ${name} | ${n(st.targetRate)} | ${n(st.achievedRate)} | ${st.latency.p50} / ${st.latency.p99} | ${seconds(st.lateP95)} | ${st.drainSeconds} | ${st.keptUp ? "yes" : "no"}${st.unseen > 0 ? ` (${st.unseen} markers never searchable)` : ""} |`,
    );
  const costLines = (lines: { item: string; quantity: number; usd: number }[]) =>
    lines.map((c) => `| ${c.item} | ${n(c.quantity)} | ${usd(c.usd)} |`);
  const prices = Object.values(r.cost.prices).map(
    (p) => `| ${p.unit} | $${p.usd < 0.001 ? p.usd.toExponential(4) : p.usd} | ${p.source} | ${p.asOf} |`,
  );
  return [
    `# Benchmark results (${r.date.slice(0, 10)})`,
    "",
    `\`${r.command}\` — ${r.machine.cpus} CPUs shared by PostgreSQL, Elasticsearch, Redis, ElasticMQ and the`,
    `processes under test; wall time ${n(r.wallSeconds)} s. Ratios are measured within this run.`,
    "",
    ...rows,
    "",
    `Steady-state load: ${s.mix}. Kept up = ≥ 95% of the target rate committed, every marker`,
    `searchable, markers of the step's last third searchable within ${r.settings.lagLimitSeconds} s, drained within ${r.settings.lagLimitSeconds} s.`,
    "",
    "| pipeline | target/s | achieved/s | lag p50 / p99 (s) | late p95 (s) | drain (s) | kept up |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...steps("slotsync", s.slotsync),
    ...pgsyncStepRows(s.pgsync),
    "",
    `PGSync: its daemon after a complete initial sync, queue never flushed, log checked; with the through-table child (authors through book_author) and without it; see docs/project/benchmarks.md, "PGSync comparison". Load average ${s.pgsync.loadAverage.atStart.join(", ")} → ${s.pgsync.loadAverage.atEnd.join(", ")}.`,
    "",
    `## Cost per million changes (measured over ${r.counts.windowSeconds} s at 1,000 changes/s)`,
    "",
    "| item | quantity | cost |",
    "| --- | --- | --- |",
    ...costLines(r.cost.perMillionChanges.lines),
    `| **total** | | **${usd(r.cost.perMillionChanges.totalUsd)}** |`,
    "",
    // The economy stage's own report, under this one's title (bench/economy.ts).
    economyMarkdown(e).replace(
      /^# [^\n]*\n\n/,
      "## Economy mode: idle runs and the first change after them\n\n",
    ),
    "Prices used (list prices, us-east-1; re-check before relying on them):",
    "",
    "| unit | price | source | as of |",
    "| --- | --- | --- | --- |",
    ...prices,
    "",
    ...r.cost.assumptions.map((a) => `- ${a}`),
    "",
    "Stage times (s): " +
      Object.entries(r.stages)
        .map(([k, v]) => `${k} ${v}`)
        .join("; "),
    "",
  ].join("\n");
}

/** Writes `<name>.json`, `<name>.md` and `<name>.png` into bench/results. */
export async function writeReport(
  root: string,
  r: BenchResult,
  name: string,
  python: string,
  log: (line: string) => void,
): Promise<void> {
  const dir = join(root, "bench", "results");
  const json = join(dir, `${name}.json`);
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.md`), markdown(r));
  try {
    await promisify(execFile)(python, [join(root, "bench", "chart.py"), json, join(dir, `${name}.png`)]);
  } catch (error) {
    log(`chart not drawn: ${(error as Error).message}`);
  }
  log(`wrote bench/results/${name}.{json,md,png}`);
}
