import { hostname } from "node:os";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { bootstrapSettingsFromEnv } from "../../bootstrap";
import { slotName } from "../../config";
import { type BatchStats, batchHandler, consumerOptionsFromEnv, runConsumerLoop } from "../../consumer";
import { connectDatabase, createPool } from "../../database";
import { type DriftGuard, openWatchedSchema, SqsRecordDelayer } from "../../drift";
import { SlotsyncError } from "../../errors";
import type { HandoffPublisher } from "../../poller";
import { type ConsumerQueue, type DeadLetter, type KeyPublisher, SqsConsumerQueue } from "../../queue";
import {
  CheckpointPollerState,
  createBuilders,
  createConsumerDeps,
  createDeadLetterPublisher,
  createKeyPublisher,
  createSqsClient,
  createStateStore,
  QueueHandoffPublisher,
  readSchema,
} from "../../runtime";
import type { ResolvedSchema } from "../../schema";
import { createDocumentSink, type DocumentWriter, indexAdminOf } from "../../sink";
import { formatLsn, PgSlotReader } from "../../slot";
import { defineCommand, EXIT } from "../command";
import { errorLine } from "../errors";
import { type CliLogger, createLogger, formatBytes } from "../output";
import { DEFAULT_DEAD_LETTER_FILE, deadLetterFile } from "../sync/dead-letter-file";
import { type CycleReport, LeaseKeeper } from "../sync/lease-keeper";
import { DrainingPublisher, LocalQueue } from "../sync/local-queue";
import { runPoller } from "../sync/poller";

export const run = defineCommand({
  name: "run",
  summary: "sync continuously in this process: poller and consumers (local mode)",
  usage: [
    "run [--schema <file|url>] [--consumers N] [--poll-interval S] [--dead-letters <file>] [--once] [--quiet]",
  ],
  graceful: true,
  description: `Runs the poller and N consumers in one process. Without SQS_QUEUE_URL the queue is in
memory, and the poller advances the slot only after the consumers have indexed everything a cycle
handed on: stopping or crashing at any moment loses nothing, the slot still holds what was not
indexed. With SQS_QUEUE_URL the poller sends to SQS and the consumers receive from it (as the
Lambdas do). Checkpoints go to Upstash when UPSTASH_REDIS_REST_URL is set, else to
SLOTSYNC_STATE_DIR (.slotsync/state).

The slot and the index must exist: run slotsync bootstrap first.

SIGINT/SIGTERM stops gracefully: the current cycle and the batches in progress finish, then the
process exits 0. A second signal exits at once (unindexed changes are read from the slot again).

One bad key stays one bad key: a document that cannot be built (a plugin throwing, a statement
timeout) is narrowed down to its key, every other key is written, and the key goes to the
dead-letter path with its reason while the sync goes on. That path is the DLQ when SQS_DLQ_URL is
set, else the file --dead-letters (SLOTSYNC_DEAD_LETTER_FILE, default
${DEFAULT_DEAD_LETTER_FILE}): one JSON line per letter with "at", "reason", "messageId" and the
queue message "body", ready to be sent again after the fix (see docs/operations/dead-letters.md).

Logs: one line per cycle and per batch on stderr, readable on a terminal, JSON lines otherwise.

Exit codes: 0 stopped cleanly (or --once done); 1 failure (slot missing or lost, index missing,
credentials refused); 2 bad usage, configuration or schema.

With SINK=webhook or SINK=ndjson the changes are emitted as records (a signed JSON POST, or one
line each on stdout or appended to NDJSON_PATH) instead of written to an index.

Environment: PG_URL, SCHEMA or SCHEMA_URL, ELASTICSEARCH_* or OPENSEARCH (or SINK with WEBHOOK_* or
NDJSON_PATH), SLOTSYNC_SLOT, POLL_INTERVAL_SECONDS, POLLER_FETCH_SIZE, POLLER_MAX_CHANGES_PER_CYCLE, SQS_QUEUE_URL, SQS_DLQ_URL,
SQS_ENDPOINT, AWS_REGION, UPSTASH_REDIS_REST_URL/TOKEN, SLOTSYNC_STATE_DIR, PLUGINS_DIR.`,
  flags: {
    schema: {
      type: "string",
      value: "<file|url>",
      description: "schema.json path, https:// or s3:// URL (default: $SCHEMA, else $SCHEMA_URL)",
    },
    consumers: {
      type: "integer",
      value: "<N>",
      min: 1,
      max: 64,
      description: "consumers working in parallel (default 2)",
    },
    "poll-interval": {
      type: "number",
      value: "<seconds>",
      min: 0.05,
      max: 60,
      description: "pause after a cycle that found nothing (default $POLL_INTERVAL_SECONDS, else 1)",
    },
    "dead-letters": {
      type: "string",
      value: "<file>",
      description: `dead letters as JSON lines when SQS_DLQ_URL is unset (default ${DEFAULT_DEAD_LETTER_FILE})`,
    },
    once: { type: "boolean", description: "one poll cycle, deliver everything it found, then exit" },
    quiet: { type: "boolean", description: "log only warnings and errors" },
  },
  flagEnv: {
    schema: "SCHEMA",
    "poll-interval": "POLL_INTERVAL_SECONDS",
    "dead-letters": "SLOTSYNC_DEAD_LETTER_FILE",
  },
  async run(ctx) {
    const config = ctx.config({ pg: true, schema: true, sink: true });
    const log = createLogger({ out: ctx.stderr, quiet: ctx.flags.quiet, now: ctx.now });
    const consumers = ctx.flags.consumers ?? 2;
    const once = ctx.flags.once;
    const pool = createPool(config.pgUrl, "slotsync-consumer", consumers + 1);
    // With SINK=ndjson and no NDJSON_PATH the records are this command's output; logs go to stderr.
    const sink = createDocumentSink(config.sink, { stdout: ctx.stdout });
    let sqs: SQSClient | undefined;
    try {
      // Start-up checks first, so a missing slot or index is one clear line before anything runs.
      const spec = await readSchema(config, ctx.env);
      const db = await connectDatabase(config.pgUrl, "slotsync-run");
      let schema: ResolvedSchema;
      let guard: DriftGuard;
      let confirmed: bigint | null;
      try {
        // Schema drift (a table or column the schema used is gone, a type changed) is one clear
        // line naming index, table, column and the fix, recorded for `slotsync status`.
        const opened = await openWatchedSchema({
          db,
          spec,
          store: createStateStore(config.state),
          slotFor: () => slotName(config),
          source: "run",
          intervalMs: config.drift.checkIntervalMs,
        });
        if ("drift" in opened) throw opened.drift;
        ({ schema, guard } = opened);
        const verdict = await guard.check(db);
        if (verdict.status !== "ok") throw verdict.error;
        confirmed = (await new PgSlotReader(db, slotName(config)).check()).confirmedFlushLsn;
      } finally {
        await db.end().catch(() => undefined);
      }
      const slot = slotName(config);
      await requireIndices(
        sink,
        schema.indices.map((i) => i.spec.index),
      );
      const builders = await createBuilders(schema, config.pluginsDir);

      const totals = { cycles: 0, transactions: 0, keys: 0, batches: 0, indexed: 0, deleted: 0, failed: 0 };
      const stopPolling = new AbortController();
      const stopConsumers = new AbortController();
      let fatal: unknown;
      let pollerDone = false;
      const onStop = () => {
        log.info(
          "stopping",
          "stopping: finishing the current cycle and batches (a second Ctrl-C quits at once; nothing is lost)",
        );
        stopPolling.abort();
      };
      ctx.signal.addEventListener("abort", onStop, { once: true });
      if (ctx.signal.aborted) onStop();

      const store = createStateStore(config.state);
      const keeper = new LeaseKeeper(new CheckpointPollerState(store), (report) => {
        logCycle(log, totals, report, once);
        if (once) stopPolling.abort();
      });

      // SQS when SQS_QUEUE_URL is set (like the Lambdas), else the in-process queue.
      const transport = config.queue
        ? ({ kind: "sqs", queue: config.queue, client: createSqsClient(config.queue) } as const)
        : ({ kind: "local", queue: new LocalQueue() } as const);
      const local = transport.kind === "local" ? transport.queue : undefined;
      let publisher: HandoffPublisher;
      let requeue: KeyPublisher;
      if (transport.kind === "local") {
        publisher = new DrainingPublisher(transport.queue, () => keeper.keepAlive());
        requeue = transport.queue;
      } else {
        sqs = transport.client;
        const keys = createKeyPublisher(transport.queue, sqs);
        publisher = new QueueHandoffPublisher(keys);
        requeue = keys;
      }
      const holder = `${hostname()}:${process.pid}`;
      // Like the consumer Lambda: during a bootstrap or re-index, live changes also reach the copy
      // being built, and the last range done completes the copy (switches the alias).
      const settings = bootstrapSettingsFromEnv(ctx.env);
      const deps = createConsumerDeps({
        pool,
        builders,
        completion: { slot, sink, store, holder },
        timing: { targetsCacheMs: settings.targetsCacheMs, graceMs: settings.graceMs },
        deadLetter: deadLetterSink(
          config.queue,
          sqs,
          log,
          deadLetterFile(ctx.env.SLOTSYNC_DEAD_LETTER_FILE ?? DEFAULT_DEAD_LETTER_FILE, ctx.now),
        ),
        enqueue: (messages) => requeue.publish(messages),
        // Drift stops the in-process run (a fatal batch error); with SQS, blocked records wait.
        drift: {
          guard,
          ...(sqs && config.queue
            ? {
                delayer: new SqsRecordDelayer({
                  client: sqs,
                  queueUrl: config.queue.url,
                  settings: { firstDelaySeconds: config.drift.retryDelaySeconds },
                }),
              }
            : {}),
          maxReceives: config.drift.maxReceiveCount,
        },
        schema: { spec, resolved: schema, pluginsDir: config.pluginsDir },
      });

      log.info(
        "start",
        `slotsync run: slot "${slot}" at ${confirmed === null ? "?" : formatLsn(confirmed)}; ` +
          `${schema.indices.map((i) => i.spec.index).join(", ")} on ${sink.engine}; ` +
          `queue ${local ? "in-process" : "SQS"} with ${consumers} consumer${consumers === 1 ? "" : "s"}; ` +
          `checkpoints in ${config.state.kind === "upstash" ? "Upstash" : config.state.dir}` +
          `${once ? "; one cycle" : ""}`,
        { slot, consumers, queue: local ? "in-process" : "sqs", once },
      );

      const consumerQueue: ConsumerQueue =
        transport.kind === "local"
          ? transport.queue
          : new SqsConsumerQueue(transport.client, {
              queueUrl: transport.queue.url,
              waitSeconds: once ? 1 : 5,
            });
      const consuming = runConsumerLoop(consumerQueue, batchHandler(deps, consumerOptionsFromEnv(ctx.env)), {
        concurrency: consumers,
        // In process, the poller waits for the queue to drain, so consumers stop once it has
        // stopped; with SQS, they drain only after --once and otherwise run until stopped.
        stopWhenIdle: () => pollerDone && (local !== undefined || once),
        signal: stopConsumers.signal,
        onBatch: (outcome) => reportBatch(log, totals, outcome.stats, outcome.error),
        onFatal(error) {
          fatal ??= error;
          local?.fail(error);
          stopPolling.abort();
          stopConsumers.abort();
        },
      }).catch((error: unknown) => {
        // The fatal error (already in `fatal` through onFatal) ends the run below.
        fatal ??= error;
        stopPolling.abort();
      });
      let pollerError: unknown;
      try {
        const last = await runPoller({
          pgUrl: config.pgUrl,
          slot,
          holder,
          schema,
          publisher,
          state: keeper,
          poller: config.poller,
          once,
          stop: stopPolling.signal,
          log,
          drift: guard,
        });
        // Drift found while running: stop with it (the changes stay in the slot); fix the schema
        // and start again.
        if (last?.outcome === "schema-drift" && last.drift) pollerError = last.drift.error;
      } catch (error) {
        pollerError = error;
      }
      pollerDone = true;
      // Wake idle in-process consumers so they see that the poller is done; with SQS, keep
      // receiving only to drain after --once.
      local?.notify();
      if (pollerError !== undefined || (!local && !once)) stopConsumers.abort();
      await consuming;
      ctx.signal.removeEventListener("abort", onStop);

      log.info(
        "stop",
        `stopped: ${totals.cycles} cycles, ${totals.transactions} transactions, ${totals.keys} keys; ` +
          `${totals.batches} batches, ${totals.indexed} indexed, ${totals.deleted} deleted, ${totals.failed} failed`,
        { ...totals },
      );
      const failure = fatal ?? pollerError;
      if (failure !== undefined) throw failure;
      return EXIT.ok;
    } finally {
      await pool.end().catch(() => undefined);
      await sink.close().catch(() => undefined);
      sqs?.destroy();
    }
  },
});

/**
 * Every schema index must exist (bootstrap creates them): writing to a missing one would fail every
 * batch. A stream sink (webhook, NDJSON) has no indices: nothing to check.
 */
async function requireIndices(sink: DocumentWriter, names: readonly string[]): Promise<void> {
  const admin = indexAdminOf(sink);
  if (!admin) return;
  for (const name of names) {
    if (!(await admin.indexExists(name))) {
      throw new SlotsyncError(`index "${name}" does not exist on ${sink.engine}`, {
        where: `index ${name}`,
        fix: "run `slotsync bootstrap` to create it and copy the data",
      });
    }
  }
}

/**
 * Where records and keys that can never succeed go: the DLQ when SQS_DLQ_URL is set, else the
 * dead-letter file (which outlives the process, unlike an in-memory list). Each letter is also
 * one warning in the log, with its reason.
 */
function deadLetterSink(
  queue: Parameters<typeof createDeadLetterPublisher>[0] | undefined,
  sqs: SQSClient | undefined,
  log: CliLogger,
  file: (letters: DeadLetter[]) => Promise<void>,
): (letters: DeadLetter[]) => Promise<void> {
  const dlq = queue?.dlqUrl ? createDeadLetterPublisher(queue, sqs) : undefined;
  return async (letters) => {
    if (dlq) await dlq.send(letters);
    else await file(letters);
    for (const letter of letters) {
      log.warn("dead-letter", `dead letter: ${letter.reason}`, { reason: letter.reason });
    }
  };
}

/** One line per cycle that found work (idle cycles only count, except the one of --once). */
function logCycle(
  log: CliLogger,
  totals: { cycles: number; transactions: number; keys: number },
  { heartbeat, checkpoint }: CycleReport,
  always: boolean,
): void {
  totals.cycles++;
  totals.transactions += heartbeat.transactions;
  totals.keys += heartbeat.keys;
  if (heartbeat.transactions === 0 && !always) return;
  const advanced = checkpoint ? `; slot advanced to ${formatLsn(checkpoint.lsn)}` : "";
  log.info(
    "cycle",
    `cycle: ${heartbeat.transactions} transactions, ${heartbeat.changes} changes, ${heartbeat.keys} keys${advanced} ` +
      `(lag ${formatBytes(heartbeat.lagBytes)}, ${heartbeat.durationMs} ms)`,
    {
      transactions: heartbeat.transactions,
      changes: heartbeat.changes,
      keys: heartbeat.keys,
      lsn: checkpoint ? formatLsn(checkpoint.lsn) : undefined,
      lagBytes: heartbeat.lagBytes,
      durationMs: heartbeat.durationMs,
    },
  );
}

function reportBatch(
  log: CliLogger,
  totals: { batches: number; indexed: number; deleted: number; failed: number },
  stats: BatchStats,
  error: unknown,
): void {
  if (stats.records > 0) {
    totals.batches++;
    totals.indexed += stats.indexed;
    totals.deleted += stats.deleted;
    totals.failed += stats.failed;
    const text =
      `batch: ${stats.records} records, ${stats.keys} keys → ${stats.indexed} indexed, ${stats.deleted} deleted, ` +
      `${stats.stale} stale, ${stats.failed} failed${stats.deadLettered ? `, ${stats.deadLettered} dead-lettered` : ""} (${stats.durationMs} ms)`;
    if (error === undefined && stats.failed === 0) log.info("batch", text, { ...stats });
    else log.warn("batch", `${text}${error === undefined ? "" : `: ${errorLine(error)}`}`, { ...stats });
  } else if (error !== undefined) {
    log.error("consumer-error", errorLine(error), { error: errorLine(error) });
  }
}
