import { hostname } from "node:os";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import {
  type BootstrapEvent,
  type BootstrapSummary,
  bootstrapSettingsFromEnv,
  type CompletionDeps,
  copiesOf,
  EventBridgeSchedule,
  PrerequisiteError,
  type ProgressUpdate,
  runBootstrap,
  watchBootstrap,
} from "../../bootstrap";
import { slotName } from "../../config";
import { batchHandler, consumerOptionsFromEnv, runConsumerLoop } from "../../consumer";
import { connectDatabase, createPool } from "../../database";
import { MemoryQueue } from "../../queue";
import {
  createBuilders,
  createConsumerDeps,
  createKeyPublisher,
  createStateStore,
  openSchema,
} from "../../runtime";
import { createDocumentSink } from "../../sink";
import { defineCommand, EXIT, type TextOutput } from "../command";
import { UsageError } from "../flags";
import { type CliLogger, createLogger, formatDuration } from "../output";
import { ProgressBar, type ProgressOptions } from "../progress";

export const bootstrap = defineCommand({
  name: "bootstrap",
  summary: "create the slot and copy each index behind its alias; resumes; --reindex rebuilds",
  usage: [
    "bootstrap [--schema <file|url>] [--reindex] [--resume] [--index <name>]... [--fix-replica-identity] [--range-rows N] [--delete-old-now] [--no-wait] [--consumers N]",
  ],
  description: `Creates the replication slot and copies each index into a new versioned index behind
its alias, then switches the alias atomically and turns on the poller. Running it again resumes an
unfinished copy. \`--reindex\` rebuilds served indices after a schema change, with no downtime.

Without SQS_QUEUE_URL the copy runs in this process (an in-memory queue and N consumers); stopping
it loses nothing: run bootstrap again and it continues with the ranges not yet copied. With
SQS_QUEUE_URL it plans the copy, sends the ranges to SQS and follows the progress; the consumer
Lambdas (or \`slotsync run\`) do the copying.

The database is checked first (wal_level, privileges, wal2json, REPLICA IDENTITY FULL where the
schema needs it); every problem is listed with the SQL that fixes it.

Exit codes: 0 every index is served (or, with --no-wait, the ranges are queued); 1 failure; 2 bad
usage, configuration or schema, or the database is not ready (the fixes are listed).

With SINK=webhook or SINK=ndjson there is no index or alias: every document is emitted as an
"index" record under the schema's index name, then live changes follow (run again with --reindex to
emit everything again).

Environment: PG_URL, SCHEMA or SCHEMA_URL, ELASTICSEARCH_* or OPENSEARCH (or SINK with WEBHOOK_* or
NDJSON_PATH), SLOTSYNC_SLOT, SQS_QUEUE_URL, SQS_ENDPOINT, AWS_REGION, UPSTASH_REDIS_REST_URL/TOKEN, SLOTSYNC_STATE_DIR,
BOOTSTRAP_RANGE_ROWS, REINDEX_GRACE_MINUTES, WRITE_TARGETS_CACHE_SECONDS, POLLER_RULE_NAME, PLUGINS_DIR.`,
  flags: {
    schema: {
      type: "string",
      value: "<file|url>",
      description: "schema.json path, https:// or s3:// URL (default: $SCHEMA, else $SCHEMA_URL)",
    },
    reindex: { type: "boolean", description: "build a new copy of indices that are already served" },
    resume: { type: "boolean", description: "only continue unfinished copies; never start one" },
    index: {
      type: "list",
      value: "<name>",
      description: "schema index to work on (repeatable; default all)",
    },
    "fix-replica-identity": {
      type: "boolean",
      description: "run the ALTER TABLE … REPLICA IDENTITY FULL statements the schema needs",
    },
    "range-rows": {
      type: "integer",
      value: "<N>",
      min: 10,
      max: 1_000_000,
      description: "root rows per range (default $BOOTSTRAP_RANGE_ROWS, else 5000)",
    },
    "delete-old-now": {
      type: "boolean",
      description: "delete the index the alias leaves at once (default: after REINDEX_GRACE_MINUTES)",
    },
    "no-wait": { type: "boolean", description: "with SQS_QUEUE_URL: queue the ranges and return" },
    consumers: {
      type: "integer",
      value: "<N>",
      min: 1,
      max: 64,
      description: "in-process copy: ranges copied in parallel (default 4)",
    },
    quiet: { type: "boolean", description: "no progress bar; log only warnings and errors" },
  },
  flagEnv: { schema: "SCHEMA", "range-rows": "BOOTSTRAP_RANGE_ROWS" },
  async run(ctx) {
    const config = ctx.config({ pg: true, schema: true, sink: true });
    const settings = bootstrapSettingsFromEnv(ctx.env);
    const consumerOptions = consumerOptionsFromEnv(ctx.env);
    const inProcess = config.queue === undefined;
    if (inProcess && ctx.flags["no-wait"]) {
      throw new UsageError("--no-wait needs SQS_QUEUE_URL", {
        fix: "without SQS the copy runs inside this command: leave --no-wait out, or set SQS_QUEUE_URL",
      });
    }
    const log = createLogger({ out: ctx.stderr, quiet: ctx.flags.quiet, now: ctx.now });
    const consumers = ctx.flags.consumers ?? 4;
    // With SINK=ndjson and no NDJSON_PATH the copy is this command's output (the report goes to stderr then).
    const sink = createDocumentSink(config.sink, { stdout: ctx.stdout });
    const events = settings.pollerRuleName ? new EventBridgeClient({}) : undefined;
    const db = await connectDatabase(config.pgUrl, "slotsync-bootstrap");
    const pool = inProcess ? createPool(config.pgUrl, "slotsync-bootstrap-copy", consumers + 1) : undefined;
    try {
      const schema = await openSchema(config, ctx.env, db);
      const slot = slotName(config);
      const holder = `${hostname()}:${process.pid}`;
      const common: CompletionDeps = {
        slot,
        sink,
        store: createStateStore(config.state),
        holder,
        ...(events && settings.pollerRuleName
          ? { schedule: new EventBridgeSchedule(events, settings.pollerRuleName) }
          : {}),
      };
      const timing = {
        targetsCacheMs: settings.targetsCacheMs,
        graceMs: settings.graceMs,
        deleteOldNow: ctx.flags["delete-old-now"],
      };
      const publisher = config.queue
        ? createKeyPublisher(config.queue)
        : new MemoryQueue({ maxReceiveCount: Number.POSITIVE_INFINITY });
      const queue = publisher instanceof MemoryQueue ? publisher : undefined;

      let summary: BootstrapSummary;
      try {
        summary = await runBootstrap(
          { ...common, db, schema, publisher },
          {
            ...timing,
            reindex: ctx.flags.reindex,
            resumeOnly: ctx.flags.resume,
            ...(ctx.flags.index ? { indices: ctx.flags.index } : {}),
            fixReplicaIdentity: ctx.flags["fix-replica-identity"],
            rangeRows: ctx.flags["range-rows"] ?? settings.rangeRows,
            // In-process, the queue of an earlier run died with it: every range it had sent and
            // not finished must be sent again now, not after the SQS-minded resend delay.
            resendAfterMs: inProcess ? 0 : settings.resendAfterMs,
            onEvent: (e) => logEvent(log, e),
          },
        );
      } catch (error) {
        if (!(error instanceof PrerequisiteError)) throw error;
        for (const p of error.problems) {
          ctx.stderr.write(`${p.path}: ${p.message}${p.fix ? ` — fix: ${p.fix}` : ""}\n`);
        }
        ctx.stderr.write(
          "slotsync: the database is not ready; apply the fixes above (or rerun with --fix-replica-identity for the replica identity ones), then run bootstrap again\n",
        );
        return EXIT.usage;
      }

      const copies = copiesOf(summary);
      let last: ProgressUpdate[] = [];
      if (copies.length > 0 && !ctx.flags["no-wait"]) {
        const stop = new AbortController();
        let stopped: { error: unknown } | undefined;
        const onAbort = () => stop.abort();
        ctx.signal.addEventListener("abort", onAbort, { once: true });
        const progress = progressDrawer(ctx.stderr, ctx.flags.quiet, ctx.now);
        const copying =
          queue && pool
            ? runConsumerLoop(
                queue,
                batchHandler(
                  createConsumerDeps({
                    pool,
                    builders: await createBuilders(schema, config.pluginsDir),
                    completion: common,
                    timing,
                    async deadLetter(letters) {
                      // A range that cannot be copied is marked failed (with this reason) by the
                      // consumer; the others go on, and the watch ends once only failed ones remain.
                      for (const letter of letters) log.error("dead-letter", `dead letter: ${letter.reason}`);
                    },
                    enqueue: (messages) => queue.publish(messages),
                  }),
                  consumerOptions,
                ),
                { concurrency: consumers, stopWhenIdle: false, signal: stop.signal },
              ).catch((error: unknown) => {
                // An error retrying cannot fix (credentials, privileges): stop watching and end
                // with it; the ranges not copied stay pending for `--resume`.
                stopped = { error };
                stop.abort();
              })
            : Promise.resolve(undefined);
        try {
          last = await watchBootstrap(common, copies, {
            ...timing,
            intervalMs: inProcess ? 500 : 2000,
            signal: stop.signal,
            onProgress: (updates) => progress.update(updates),
          });
        } finally {
          stop.abort();
          await copying;
          ctx.signal.removeEventListener("abort", onAbort);
          progress.finish(last);
        }
        if (stopped) throw stopped.error;
      }
      const toStdout = config.sink?.engine === "ndjson" && (config.sink.path ?? "-").trim() === "-";
      return report(toStdout ? ctx.stderr : ctx.stdout, summary, last, ctx.flags["no-wait"]);
    } finally {
      await pool?.end().catch(() => undefined);
      await db.end().catch(() => undefined);
      await sink.close().catch(() => undefined);
      events?.destroy();
    }
  },
});

/** One line per bootstrap step; range sending is shown only when it ends. */
function logEvent(log: CliLogger, e: BootstrapEvent): void {
  switch (e.step) {
    case "replica-identity-fixed":
      log.info(e.step, `ran ${e.statements.join("; ")}`, { ...e });
      return;
    case "slot-created":
      log.info(e.step, `created replication slot "${e.slot}"`, { ...e });
      return;
    case "index-created":
      log.info(
        e.step,
        `created index "${e.concrete}" for "${e.index}"${e.replaces.length > 0 ? ` (will replace ${e.replaces.join(", ")})` : ""}`,
        { ...e },
      );
      return;
    case "planned":
      log.info(
        e.step,
        `${e.index}: ${count(e.ranges)} ranges of about ${count(e.estimatedRows)} rows (${e.method} split)`,
        { ...e },
      );
      return;
    case "waiting-for-consumers":
      log.info(e.step, `${e.index}: waiting ${formatDuration(e.ms)} for consumers to see the new index`, {
        ...e,
      });
      return;
    case "sent":
      if (e.sent === e.total) log.info(e.step, `${e.index}: ${count(e.sent)} ranges queued`, { ...e });
      return;
    case "switched":
      // A stream sink has no alias: the copy was emitted under the index name itself.
      if (e.concrete === e.index) {
        log.info(e.step, `${e.index}: every document emitted; live changes follow`, { ...e });
        return;
      }
      log.info(
        e.step,
        `${e.index}: alias now serves "${e.concrete}"${e.previous.length > 0 ? ` (was ${e.previous.join(", ")})` : ""}`,
        { ...e },
      );
      return;
    case "deleted":
      log.info(e.step, `${e.index}: deleted old index "${e.concrete}"`, { ...e });
      return;
    case "abandoned":
      log.warn(e.step, `${e.index}: abandoned unfinished copy "${e.concrete}": ${e.reason}`, { ...e });
      return;
  }
}

/** One progress bar over every copy: ranges done of all, documents and their current rate. */
function progressDrawer(out: TextOutput, quiet: boolean, now: () => number) {
  const options: ProgressOptions = {
    out: quiet ? { write: () => true } : out,
    label: "copying",
    unit: "ranges",
    now,
  };
  let bar: ProgressBar | undefined;
  let total = 0;
  const label = (updates: readonly ProgressUpdate[], final: boolean) => {
    const documents = sum(updates, (u) => u.documents);
    const rate = sum(updates, (u) => u.documentsPerSecond ?? 0);
    return final
      ? `copied ${count(documents)} documents`
      : `copying ${count(documents)} documents${rate > 0 ? ` (${count(rate)}/s)` : ""}`;
  };
  return {
    update(updates: readonly ProgressUpdate[]) {
      // The bar prints its label as given; the options object is ours to refresh before a redraw.
      options.label = label(updates, false);
      const newTotal = sum(updates, (u) => u.total);
      // Created at the first reading, with its total, so every redraw shows one consistent reading
      // (setTotal and update each draw, and the second is skipped within the redraw interval).
      if (!bar) {
        options.total = newTotal;
        bar = new ProgressBar(options);
      } else if (newTotal !== total) bar.setTotal(newTotal);
      total = newTotal;
      bar.update(sum(updates, (u) => u.done));
    },
    finish(updates: readonly ProgressUpdate[]) {
      bar?.finish(label(updates, true));
    },
  };
}

/** The outcome on stdout, one line per index; exit 0 when everything asked for is served. */
function report(
  out: TextOutput,
  summary: BootstrapSummary,
  last: readonly ProgressUpdate[],
  noWait: boolean,
): number {
  let ok = true;
  for (const i of summary.indices) {
    const update = last.find((u) => u.bootstrapId === i.bootstrapId);
    if (!i.bootstrapId) {
      out.write(`${i.index}: ${i.message}\n`);
      if (i.state !== "serving") ok = false;
    } else if (update?.state === "serving") {
      const seconds = Math.max(0.001, update.elapsedMs / 1000);
      // A stream sink's copy has the index's own name: it was emitted, not switched in.
      const what = i.concrete === i.index ? "emitted" : `serving "${i.concrete}":`;
      out.write(
        `${i.index}: ${what} ${count(update.documents)} documents in ` +
          `${formatDuration(update.elapsedMs)} (${count(Math.round(update.documents / seconds))} documents/s)\n`,
      );
    } else if (noWait) {
      out.write(`${i.index}: ${i.message}; follow it with slotsync status\n`);
    } else {
      const done = update ? `${update.done}/${update.total}` : `${i.done}/${i.total}`;
      const failed = update && update.failed > 0 ? `, ${update.failed} failed (see slotsync status)` : "";
      out.write(
        `${i.index}: not finished (${done} ranges done${failed}); fix the cause, then run slotsync bootstrap --resume\n`,
      );
      ok = false;
    }
  }
  return ok ? EXIT.ok : EXIT.failure;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((n, item) => n + value(item), 0);
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
