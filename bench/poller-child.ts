/**
 * The poller side of bench/poller.ts, in its own process so its peak RSS is its own: runs poller
 * cycles against a prepared slot until a cycle finds nothing, sending keys to real SQS (ElasticMQ).
 * Prints one JSON line with counts, time and peak RSS (VmHWM).
 *
 * With `TIMEOUT_SECONDS` set it runs the poller as the stack's Lambda does instead: runs of the
 * poller loop, each with the stack's run length (`RUN_SECONDS`), safety margin and that timeout
 * (cycles stop at the margin before it and keep their place in a local state store), one after
 * the other until the slot's changes were handed on; it counts the runs and notes any run that
 * went past its timeout (Lambda would have ended it).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import pg from "pg";
import { FileCheckpointStore } from "../lib/checkpoint";
import { pgConnectionConfig } from "../lib/database";
import {
  DEFAULT_CYCLE_OPTIONS,
  DEFAULT_LOOP_OPTIONS,
  type LargeTransactionReport,
  runCycle,
  runDeadline,
  runPollerLoop,
} from "../lib/poller";
import { SqsKeyPublisher } from "../lib/queue";
import { ChangeResolver } from "../lib/resolve";
import { CheckpointPollerState, QueueHandoffPublisher } from "../lib/runtime";
import { parseSchema, resolveSchema } from "../lib/schema";
import { PgSlotReader } from "../lib/slot";

function peakRssBytes(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

async function main(): Promise<void> {
  const { PG_URL = "", SLOT = "", SCHEMA_JSON = "", QUEUE_URL = "", SQS_ENDPOINT = "" } = process.env;
  const db = new pg.Client(pgConnectionConfig(PG_URL, "bench-poller"));
  await db.connect();
  const schema = await resolveSchema(parseSchema(JSON.parse(SCHEMA_JSON)), db, { checkDatabaseName: false });
  const sqs = new SQSClient({
    endpoint: SQS_ENDPOINT,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const publisher = new QueueHandoffPublisher(new SqsKeyPublisher({ client: sqs, queueUrl: QUEUE_URL }));
  const deps = { db, reader: new PgSlotReader(db, SLOT), resolver: new ChangeResolver(schema), publisher };
  if (process.env.TIMEOUT_SECONDS) {
    await lambdaRuns(deps, SLOT, Number(process.env.TIMEOUT_SECONDS), Number(process.env.RUN_SECONDS ?? 58));
    await db.end();
    sqs.destroy();
    return;
  }
  const baseline = peakRssBytes();
  const started = performance.now();
  const totals = { transactions: 0, changes: 0, keys: 0, handoffs: 0, cycles: 0, resolveQueries: 0 };
  for (;;) {
    const cycle = await runCycle(deps, DEFAULT_CYCLE_OPTIONS);
    totals.cycles++;
    totals.transactions += cycle.transactions;
    totals.changes += cycle.changes;
    totals.keys += cycle.keys;
    totals.handoffs += cycle.handoffs;
    totals.resolveQueries += cycle.resolveQueries;
    if (cycle.transactions === 0) break;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      ...totals,
      seconds,
      changesPerSecond: totals.changes / seconds,
      baselineRssBytes: baseline,
      peakRssBytes: peakRssBytes(),
    }),
  );
  await db.end();
  sqs.destroy();
}

/** Poller runs as in the stack (see the file comment), until every change of the slot was handed on. */
async function lambdaRuns(
  deps: Omit<Parameters<typeof runPollerLoop>[0], "state">,
  slot: string,
  timeoutSeconds: number,
  runSeconds: number,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "slotsync-bench-state-"));
  const state = new CheckpointPollerState(new FileCheckpointStore({ dir }));
  const baseline = peakRssBytes();
  const started = performance.now();
  const runs: { seconds: number; changes: number; keys: number; state?: string; overran: boolean }[] = [];
  const totals = { transactions: 0, changes: 0, keys: 0 };
  let firstReportSeconds: number | undefined;
  /** When the last cycle that handed something on ended. */
  let lastWorkSeconds: number | undefined;
  let finished = false;
  try {
    for (let n = 1; n <= 100; n++) {
      const runStart = Date.now();
      const timeoutAt = runStart + timeoutSeconds * 1000;
      const margin = DEFAULT_LOOP_OPTIONS.safetyMarginMs;
      const passed = new AbortController();
      let last: LargeTransactionReport | undefined;
      // The Lambda would go on polling until the next tick; the benchmark stops at the first
      // cycle that finds nothing after the work was handed on.
      const runState = Object.create(state) as CheckpointPollerState;
      runState.heartbeat = async (...args) => {
        await state.heartbeat(...args);
        if (args[2].changes > 0) lastWorkSeconds = (performance.now() - started) / 1000;
        else if (lastWorkSeconds !== undefined) {
          finished = true;
          passed.abort();
        }
      };
      const summary = await runPollerLoop(
        {
          ...deps,
          state: runState,
          onLargeTransaction: (report) => {
            last = report;
            firstReportSeconds ??= (performance.now() - started) / 1000;
          },
        },
        { ...DEFAULT_LOOP_OPTIONS, slot, holder: `run-${n}`, stopCyclesAt: timeoutAt - margin },
        runDeadline(runStart, timeoutAt, runSeconds * 1000, margin),
        passed.signal,
      );
      totals.transactions += summary.transactions;
      totals.changes += summary.changes;
      totals.keys += summary.keys;
      const seconds = (Date.now() - runStart) / 1000;
      runs.push({
        seconds: +seconds.toFixed(1),
        changes: summary.changes,
        keys: summary.keys,
        ...(last ? { state: last.state } : {}),
        overran: Date.now() > timeoutAt,
      });
      console.error(`[huge-txn] run ${n}: ${JSON.stringify(runs.at(-1))}`);
      if (finished) break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const seconds = lastWorkSeconds ?? (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      ...totals,
      cycles: runs.length,
      runs: runs.length,
      runDetails: runs,
      overran: runs.some((r) => r.overran),
      firstLargeReportSeconds: firstReportSeconds,
      seconds,
      changesPerSecond: totals.changes / seconds,
      baselineRssBytes: baseline,
      peakRssBytes: peakRssBytes(),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
