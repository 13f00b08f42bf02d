/**
 * The PGSync part of the benchmark's report: slotsync's ratio to each PGSync figure, and the
 * Markdown of the figures with the configuration and procedure beside them.
 */
import type { PgsyncSteadyResult, PgsyncVariant, PgsyncVariantResult } from "./pgsync-steady";

const n = (v: number) => v.toLocaleString("en-US");

/** A PGSync variant's kept-up figure as text ("< 5" when even the ladder's first rate fell behind). */
export function pgsyncFigure(v: PgsyncVariantResult): string {
  const first = v.runs[0]?.steps[0]?.targetRate ?? 0;
  return v.best.sustained === 0
    ? `< ${n(first)} changes/s`
    : `${n(v.best.sustained)}${v.best.lowerBound ? "+" : ""} changes/s`;
}

/**
 * slotsync's kept-up rate over PGSync's, per variant. When PGSync kept up with no rate tried, the
 * ladder's first rate stands in (the ratio is then a lower bound).
 */
export function pgsyncRatios(
  slotsync: number,
  r: PgsyncSteadyResult,
): Partial<Record<PgsyncVariant, number>> {
  const ratios: Partial<Record<PgsyncVariant, number>> = {};
  for (const v of r.variants) {
    const pgsync = v.best.sustained || v.runs[0]?.steps[0]?.targetRate || 1;
    ratios[v.variant] = +(slotsync / pgsync).toFixed(1);
  }
  return ratios;
}

/** The settings a run used, as `NAME=value` (or "defaults"). */
const settingsText = (env: Record<string, string>) =>
  Object.keys(env).length === 0
    ? "defaults"
    : Object.entries(env)
        .map(([k, v]) => `\`${k}=${v}\``)
        .join(" ");

/** The rows of the steady-state table for `r`: one per variant and step. */
export function pgsyncStepRows(r: PgsyncSteadyResult): string[] {
  const rows: string[] = [];
  for (const v of r.variants)
    for (const run of v.runs)
      for (const st of run.steps)
        rows.push(
          `| PGSync, ${v.variant}, ${run.tuning} | ${n(st.targetRate)} | ${n(st.achievedRate)} | ${st.latency.p50} / ${st.latency.p99} | ${Number.isFinite(st.lateP95) ? st.lateP95 : "never"} | ${st.drainSeconds} | ${st.keptUp ? "yes" : "no"}${st.unseen > 0 ? ` (${st.unseen} markers never searchable)` : ""} |`,
        );
  return rows;
}

/**
 * The Markdown of PGSync's steady state: the two figures with slotsync's ratio to each, then every
 * run's configuration and steps, the backlog after the step each fell behind on, and the query
 * time per batch size that explains the difference.
 */
export function pgsyncMarkdown(
  r: PgsyncSteadyResult,
  slotsync: { sustained: number; date: string; books: number },
): string {
  const ratios = pgsyncRatios(slotsync.sustained, r);
  const figures = r.variants.map((v) => {
    const st = v.best.step;
    const at = st ? `p50 ${st.latency.p50} s, p95 ${st.latency.p95} s, p99 ${st.latency.p99} s` : "";
    const bound = v.best.sustained === 0 ? "≥ " : "";
    return `| ${v.variant} (${v.schema}) | ${pgsyncFigure(v)} | ${at} | ${v.best.tuning} | ${n(slotsync.sustained)} changes/s | ${bound}${ratios[v.variant]}× |`;
  });
  const runs = r.variants.flatMap((v) =>
    v.runs.map(
      (run) =>
        `| ${v.variant} | ${run.tuning}: ${settingsText(run.env)} | ${run.startSeconds} s | ${run.sustained === 0 ? "none" : `${n(run.sustained)}${run.lowerBound ? "+" : ""}`} | ${run.drain ? `${run.drain.queued} queued; ${run.drain.drained ? `drained in ${run.drain.seconds} s` : `not drained within ${run.drain.seconds} s`}` : "—"} |`,
    ),
  );
  const sizes = Object.keys(r.variants[0]?.queryByBatch ?? {});
  const queries = r.variants.map(
    (v) =>
      `| ${v.variant} | ${sizes
        .map((size) => {
          const q = v.queryByBatch[size];
          return q ? `${q.seconds} s (${n(q.throughRows)} book_author rows read)` : "";
        })
        .join(" | ")} |`,
  );
  return [
    `# PGSync steady state (PGSync ${r.version}, ${n(r.books)} books)`,
    "",
    `Each variant: a database of ${n(r.books)} books completely synced by PGSync (\`bootstrap\`, then \`pgsync --config schema.json\` to its end, every document checked in the index), then \`pgsync --config schema.json --daemon\` started normally; its Redis queue (database ${r.redisDb}) is never flushed and its log is checked for tracebacks and ERROR records after every step. Steps of ${r.stepSeconds} s with the same load and the same rule as slotsync (kept up = ≥ 95% of the rate committed, every marker searchable, markers of the last third searchable within ${r.lagLimitSeconds} s, drained within ${r.lagLimitSeconds} s); the ladder ends at the first step that falls behind, after which the daemon's backlog is waited for. Load average ${r.loadAverage.atStart.join(", ")} at the start, ${r.loadAverage.atEnd.join(", ")} at the end (2 shared cores).`,
    "",
    `| schema | PGSync kept up | latency at that rate | tuning | slotsync kept up (${n(slotsync.books)} books, ${slotsync.date.slice(0, 10)}) | ratio |`,
    "| --- | --- | --- | --- | --- | --- |",
    ...figures,
    "",
    "| schema | tuning (settings on top of the defaults) | daemon start to a new change searchable | kept up to (changes/s) | backlog after the step it fell behind on |",
    "| --- | --- | --- | --- | --- |",
    ...runs,
    "",
    `PGSync's document query per batch (seconds; median of 3 runs up to 2 roots, one run above; roots spread over the table):`,
    "",
    `| schema | ${sizes.map((s) => `${s} root${s === "1" ? "" : "s"}`).join(" | ")} |`,
    `| --- | ${sizes.map(() => "---").join(" | ")} |`,
    ...queries,
    "",
    "| pipeline | target/s | achieved/s | lag p50 / p99 (s) | late p95 (s) | drain (s) | kept up |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...pgsyncStepRows(r),
    "",
  ].join("\n");
}
