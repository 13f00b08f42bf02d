/**
 * One process of slotsync's pipeline for the steady-state and latency runs (bench/steady.ts),
 * configured from the environment exactly like the Lambdas.
 *
 *   BENCH_ROLE=poller    the poller Lambda's loop (runPollerLoop with the Lambda's run options,
 *                        lib/runtime scheduledRunOptions) in invocations of BENCH_INVOCATION_MS:
 *                        `scheduled` starts one every BENCH_SCHEDULE_MS, concurrently with the one
 *                        still running as EventBridge does, `continuous` starts the next as soon as
 *                        one ends. The parent switches the mode over IPC; a switch or SIGTERM stops
 *                        the running invocations cleanly (their lease released).
 *   BENCH_ROLE=consumer  what Lambda's SQS event source mapping does, through the in-process
 *                        consumer loop: gathers up to BENCH_BATCH_SIZE messages or until
 *                        BENCH_BATCH_WINDOW_MS passes, invokes the real consumer handler, deletes
 *                        what the partial batch response did not name.
 *
 * Prints one JSON line per invocation, for the cost model, and one each time a run takes or
 * releases the slot's lease, to count the hand-overs between scheduled runs.
 */
import { randomBytes } from "node:crypto";
import { SQSClient } from "@aws-sdk/client-sqs";
import pg from "pg";
import { handler as consumerHandler } from "../lambdas/consumer";
import { loadConfig, slotName } from "../lib/config";
import { runConsumerLoop } from "../lib/consumer";
import { pgConnectionConfig } from "../lib/database";
import { runPollerLoop } from "../lib/poller";
import { SqsConsumerQueue } from "../lib/queue";
import { ChangeResolver } from "../lib/resolve";
import {
  CheckpointPollerState,
  createKeyPublisher,
  createStateStore,
  openSchema,
  QueueHandoffPublisher,
  scheduledRunOptions,
} from "../lib/runtime";
import { PgSlotReader } from "../lib/slot";
import { lambdaBatches } from "../test/support/lambda-batches";

const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function poller(): Promise<void> {
  const env = process.env;
  const config = loadConfig(env, { pg: true, schema: true, queue: true, upstash: true });
  const state = observeLease(new CheckpointPollerState(createStateStore(config.state)));
  const publisher = new QueueHandoffPublisher(createKeyPublisher(config.queue));
  // As the stack deploys it: a tick every BENCH_SCHEDULE_MS, each run with the Lambda timeout
  // BENCH_INVOCATION_MS and the run options the Lambda uses (POLLER_RUN_SECONDS, POLLER_MODE,
  // POLLER_LEASE_WAIT_SECONDS, ... from the environment).
  const scheduleMs = Number(env.BENCH_SCHEDULE_MS ?? 60_000);
  const invocationMs = Number(env.BENCH_INVOCATION_MS ?? 900_000);
  let mode = env.BENCH_POLLER_MODE === "scheduled" ? "scheduled" : "continuous";
  let controller = new AbortController();
  let stopping = false;
  process.on("message", (m: { mode?: string }) => {
    if (m.mode) {
      mode = m.mode;
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

  /** One Lambda invocation: its own connection, the warm environment's schema and clients. */
  const invoke = async (signal: AbortSignal) => {
    const started = Date.now();
    const db = new pg.Client(pgConnectionConfig(config.pgUrl, "slotsync-poller"));
    try {
      await db.connect();
      const reader = new PgSlotReader(db, slot);
      await reader.check();
      const run = scheduledRunOptions(config.poller, {
        slot,
        holder: randomBytes(6).toString("hex"),
        started,
        timeoutAt: started + invocationMs,
      });
      const summary = await runPollerLoop(
        { db, reader, resolver: new ChangeResolver(schema), publisher, state },
        run.options,
        run.deadline,
        signal,
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
  };

  while (!stopping) {
    if (controller.signal.aborted) controller = new AbortController();
    const signal = controller.signal;
    if (mode === "continuous") {
      await invoke(signal);
      continue;
    }
    // EventBridge: a tick every interval starts an invocation, whether or not the previous one
    // still runs (it does, for POLLER_RUN_SECONDS past the rate: the new one waits for its lease).
    const running = new Set<Promise<void>>();
    const epoch = Date.now();
    for (let tick = 0; !signal.aborted; tick++) {
      await sleep(epoch + tick * scheduleMs - Date.now(), signal);
      if (signal.aborted) break;
      const run = invoke(signal).finally(() => running.delete(run));
      running.add(run);
    }
    await Promise.all(running);
  }
  process.exit(0);
}

/** The state store, telling the parent when a run takes and releases the slot's lease. */
function observeLease(state: CheckpointPollerState): CheckpointPollerState {
  return new Proxy(state, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === "acquire") {
        return async (...args: Parameters<CheckpointPollerState["acquire"]>) => {
          const lease = await target.acquire(...args);
          if (lease) emit({ role: "lease", event: "acquired", token: lease.token, at: Date.now() });
          return lease;
        };
      }
      if (property === "release") {
        // Told as the release starts, so it is always told before the next run's take-over.
        return async (...args: Parameters<CheckpointPollerState["release"]>) => {
          emit({ role: "lease", event: "released", token: args[1], at: Date.now() });
          await target.release(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
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
