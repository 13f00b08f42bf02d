/**
 * One process of slotsync's pipeline for the steady-state and latency runs (bench/steady.ts),
 * configured from the environment exactly like the Lambdas.
 *
 *   BENCH_ROLE=poller    the poller Lambda's loop (runPollerLoop, wired as lambdas/poller.ts wires
 *                        it) in invocations of BENCH_INVOCATION_MS: `scheduled` starts one per
 *                        interval (EventBridge rate(1 min)), `continuous` starts the next as soon as
 *                        one ends. The parent switches the mode over IPC; a switch or SIGTERM stops
 *                        the running invocation cleanly (its lease released).
 *   BENCH_ROLE=consumer  what Lambda's SQS event source mapping does, through the in-process
 *                        consumer loop: gathers up to BENCH_BATCH_SIZE messages or until
 *                        BENCH_BATCH_WINDOW_MS passes, invokes the real consumer handler, deletes
 *                        what the partial batch response did not name.
 *
 * Prints one JSON line per invocation, for the cost model.
 */
import { randomBytes } from "node:crypto";
import { SQSClient } from "@aws-sdk/client-sqs";
import pg from "pg";
import { handler as consumerHandler } from "../lambdas/consumer";
import { loadConfig, slotName } from "../lib/config";
import { runConsumerLoop } from "../lib/consumer";
import { pgConnectionConfig } from "../lib/database";
import { DEFAULT_LOOP_OPTIONS, runDeadline, runPollerLoop } from "../lib/poller";
import { SqsConsumerQueue } from "../lib/queue";
import { ChangeResolver } from "../lib/resolve";
import {
  CheckpointPollerState,
  createKeyPublisher,
  createStateStore,
  openSchema,
  QueueHandoffPublisher,
} from "../lib/runtime";
import { PgSlotReader } from "../lib/slot";
import { lambdaBatches } from "../test/support/lambda-batches";

const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function poller(): Promise<void> {
  const env = process.env;
  const config = loadConfig(env, { pg: true, schema: true, queue: true, upstash: true });
  if (!config.queue) throw new Error("unreachable: queue is required");
  const state = new CheckpointPollerState(createStateStore(config.state));
  const publisher = new QueueHandoffPublisher(createKeyPublisher(config.queue));
  // As the stack deploys it: a tick every BENCH_SCHEDULE_MS, each run with the Lambda timeout
  // BENCH_INVOCATION_MS, starting cycles until POLLER_RUN_SECONDS (from the environment).
  const scheduleMs = Number(env.BENCH_SCHEDULE_MS ?? 60_000);
  const invocationMs = Number(env.BENCH_INVOCATION_MS ?? 75_000);
  let mode = env.BENCH_POLLER_MODE === "scheduled" ? "scheduled" : "continuous";
  let epoch = Date.now();
  let controller = new AbortController();
  let stopping = false;
  process.on("message", (m: { mode?: string }) => {
    if (m.mode) {
      mode = m.mode;
      epoch = Date.now();
      controller.abort();
    }
  });
  process.on("SIGTERM", () => {
    stopping = true;
    controller.abort();
  });
  const setup = new pg.Client(pgConnectionConfig(config.pgUrl, "slotsync-poller"));
  await setup.connect();
  const schema = await openSchema(config, env, setup);
  await setup.end();
  const slot = slotName(config);
  let tick = 0;
  while (!stopping) {
    if (controller.signal.aborted) {
      controller = new AbortController();
      tick = 0;
    }
    if (mode === "scheduled") {
      // EventBridge rate(1 min): invocation n starts n intervals after the schedule began.
      // A tick that finds the previous run still finishing starts as soon as it ends (Lambda
      // retries a throttled scheduled event).
      const at = epoch + tick * scheduleMs;
      tick++;
      const wait = at - Date.now();
      if (wait > 0) await sleep(wait, controller.signal);
      if (controller.signal.aborted) continue;
    }
    const started = Date.now();
    const db = new pg.Client(pgConnectionConfig(config.pgUrl, "slotsync-poller"));
    await db.connect();
    try {
      const reader = new PgSlotReader(db, slot);
      await reader.check();
      const summary = await runPollerLoop(
        { db, reader, resolver: new ChangeResolver(schema), publisher, state },
        {
          ...DEFAULT_LOOP_OPTIONS,
          slot,
          holder: randomBytes(6).toString("hex"),
          pollIntervalMs: config.poller.pollIntervalMs,
          safetyMarginMs: config.poller.safetyMarginMs,
          fetchSize: config.poller.fetchSize,
          maxChangesPerCycle: config.poller.maxChangesPerCycle,
          leaseTtlMs: config.poller.leaseTtlMs,
        },
        runDeadline(started, started + invocationMs, config.poller.runMs, config.poller.safetyMarginMs),
        controller.signal,
      );
      emit({
        role: "poller",
        mode,
        durationMs: Date.now() - started,
        outcome: summary.outcome,
        cycles: summary.cycles,
        changes: summary.changes,
        keys: summary.keys,
      });
    } catch (error) {
      emit({ role: "poller", error: (error as Error).message.slice(0, 300) });
      await sleep(500);
    } finally {
      await db.end().catch(() => undefined);
    }
  }
  process.exit(0);
}

async function consumer(): Promise<void> {
  const timeoutMs = Number(process.env.BENCH_CONSUMER_TIMEOUT_MS ?? 60_000);
  const sqs = new SQSClient({
    endpoint: process.env.SQS_ENDPOINT,
    region: process.env.AWS_REGION ?? "us-east-1",
  });
  // The event source mapping invokes once the batch is full or the batching window has passed,
  // long-polling 20 s for the first message as its pollers do.
  const queue = new SqsConsumerQueue(sqs, {
    queueUrl: process.env.SQS_QUEUE_URL ?? "",
    waitSeconds: 20,
    batchWindowMs: Number(process.env.BENCH_BATCH_WINDOW_MS ?? 0),
  });
  const error = (e: unknown) => emit({ role: "consumer", error: (e as Error).message.slice(0, 300) });
  process.on("SIGTERM", () => process.exit(0));
  await runConsumerLoop(
    queue,
    lambdaBatches((event) => {
      const started = Date.now();
      return consumerHandler(event, {
        awsRequestId: "bench",
        getRemainingTimeInMillis: () => timeoutMs - (Date.now() - started),
      });
    }, error),
    {
      concurrency: 1,
      batchSize: Number(process.env.BENCH_BATCH_SIZE ?? 10),
      stopWhenIdle: false,
      onBatch(outcome) {
        if (outcome.messages.length > 0) {
          emit({
            role: "consumer",
            records: outcome.messages.length,
            failed: outcome.failed,
            durationMs: outcome.durationMs,
          });
        } else if (outcome.error !== undefined) error(outcome.error);
      },
    },
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

if (process.env.BENCH_ROLE === "poller") await poller();
else await consumer();
