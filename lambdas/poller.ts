import type { CheckpointStore, Lease } from "../lib/checkpoint";
import { loadConfig, type SlotsyncConfig, slotName } from "../lib/config";
import { connectDatabase } from "../lib/database";
import { type DriftGuard, openWatchedSchema, type SchemaDriftError } from "../lib/drift";
import { type LargeTransactionReport, runPollerLoop } from "../lib/poller";
import { ChangeResolver } from "../lib/resolve";
import {
  CheckpointPollerState,
  createKeyPublisher,
  createStateStore,
  QueueHandoffPublisher,
  readSchema,
  scheduledRunOptions,
} from "../lib/runtime";
import type { ResolvedSchema } from "../lib/schema";
import { formatLsn, PgSlotReader } from "../lib/slot";
import {
  ColdStart,
  createLogger,
  createMetrics,
  DATABASE_POLICY,
  errorFields,
  type InvocationContext,
  warnConfig,
} from "./context";
import { loadEnvironment } from "./environment";

const logger = createLogger("slotsync-poller");
const metrics = createMetrics("slotsync-poller");

interface Wired {
  config: SlotsyncConfig;
  env: Record<string, string | undefined>;
  store: CheckpointStore & Lease;
  state: CheckpointPollerState;
  publisher: QueueHandoffPublisher;
  schema?: ResolvedSchema;
  /** Watches the schema for drift; dropped with the schema when drift stops a run. */
  guard?: DriftGuard;
}

/** Cold start: configuration (secrets included) is read and checked once, then reused. */
async function wire(): Promise<Wired> {
  const env = await loadEnvironment(process.env);
  const config = loadConfig(env, { pg: true, schema: true, queue: true, upstash: true });
  warnConfig(logger, config);
  const store = createStateStore(config.state);
  return {
    config,
    env,
    store,
    state: new CheckpointPollerState(store),
    publisher: new QueueHandoffPublisher(createKeyPublisher(config.queue)),
  };
}

const coldStart = new ColdStart(logger, wire);

/**
 * The scheduled poller: connects, reads the slot until little Lambda time is left, hands keys to
 * SQS and advances the slot only past what SQS accepted. A second concurrent invocation finds the
 * lease taken and returns at once.
 */
export async function handler(_event: unknown, context: InvocationContext): Promise<Record<string, unknown>> {
  const w = await coldStart.begin(context);
  const started = Date.now();
  const timeoutAt = started + context.getRemainingTimeInMillis();
  const db = await connectDatabase(w.config.pgUrl, "slotsync-poller", DATABASE_POLICY);
  try {
    if (!w.schema || !w.guard) {
      const config = w.config;
      const opened = await openWatchedSchema({
        db,
        spec: await readSchema(config, w.env),
        store: w.store,
        slotFor: () => slotName(config),
        source: "poller",
        intervalMs: config.drift.checkIntervalMs,
      });
      if ("drift" in opened) return driftStopped(opened.slot, opened.drift, 0);
      w.schema = opened.schema;
      w.guard = opened.guard;
    }
    const slot = slotName(w.config);
    const reader = new PgSlotReader(db, slot);
    await reader.check();
    const run = scheduledRunOptions(w.config.poller, {
      slot,
      holder: context.awsRequestId,
      started,
      timeoutAt,
    });
    const summary = await runPollerLoop(
      {
        db,
        reader,
        resolver: new ChangeResolver(w.schema),
        publisher: w.publisher,
        state: w.state,
        drift: w.guard,
        onLargeTransaction: (report) => reportLargeTransaction(slot, report),
      },
      run.options,
      run.deadline,
    );
    if (summary.outcome === "schema-drift" && summary.drift) {
      // Resolve again next time: after a redeploy, a restored column or an accepted type change.
      w.schema = undefined;
      w.guard = undefined;
      if (summary.drift.status === "reload") {
        logger.info("column types changed and a re-index accepted them: the schema is resolved again", {
          slot,
          message: summary.drift.error.message,
        });
        return { outcome: "schema-reload", slot, cycles: summary.cycles };
      }
      return driftStopped(slot, summary.drift.error as SchemaDriftError, summary.cycles);
    }
    const { drift: _none, largeTransaction, ...rest } = summary;
    const result = {
      ...rest,
      advancedTo: summary.advancedTo?.toString(),
      slot,
      mode: w.config.poller.mode,
      ...(largeTransaction ? { largeTransaction: largeTransactionFields(largeTransaction) } : {}),
    };
    logger.info("poll finished", result);
    metrics.addMetric("Transactions", "Count", summary.transactions);
    metrics.addMetric("Changes", "Count", summary.changes);
    metrics.addMetric("KeysSent", "Count", summary.keys);
    metrics.publishStoredMetrics();
    return result;
  } catch (error) {
    logger.error("poll failed", errorFields(error));
    throw error;
  } finally {
    await db.end().catch(() => undefined);
  }
}

function largeTransactionFields(report: LargeTransactionReport): Record<string, unknown> {
  return {
    state: report.state,
    xid: report.xid,
    commitEndLsn: formatLsn(report.endLsn),
    changesDecoded: report.changes,
    handedOnThrough: report.handedOnThrough === undefined ? undefined : formatLsn(report.handedOnThrough),
    resumed: report.resumed,
    startedAt: report.startedAt,
  };
}

/**
 * A large transaction is being handed on: one log line per report (when it becomes large, every
 * 10 s, when the run stops inside it, when it is done) and the `LargeTransactionInProgress` and
 * `LargeTransactionChanges` metrics, flushed at once so the dashboard shows it while it lasts.
 */
function reportLargeTransaction(slot: string, report: LargeTransactionReport): void {
  const fields = { slot, ...largeTransactionFields(report) };
  if (report.state === "done") {
    logger.info("large transaction handed on", fields);
  } else {
    logger.warn(
      report.state === "paused"
        ? "large transaction in progress: the run ends inside it, the next run goes on after handedOnThrough"
        : "large transaction in progress: the slot advances once it is handed on whole",
      fields,
    );
  }
  metrics.addMetric("LargeTransactionInProgress", "Count", report.state === "done" ? 0 : 1);
  metrics.addMetric("LargeTransactionChanges", "Count", report.changes);
  metrics.publishStoredMetrics();
}

/**
 * The run stopped on schema drift: one log line naming index, table, column and the fix, and a
 * clean return (no error, so no Lambda retry): the changes stay in the slot, and the next scheduled
 * run checks again and goes on by itself once the database matches the deployed schema.
 */
function driftStopped(slot: string, drift: SchemaDriftError, cycles: number): Record<string, unknown> {
  const result = {
    outcome: "schema-drift",
    slot,
    cycles,
    message: drift.message,
    fix: drift.fix,
    findings: drift.findings,
  };
  logger.error("schema drift: the poller hands nothing on and leaves the slot where it is", {
    ...result,
    where: drift.where,
  });
  metrics.addMetric("SchemaDrift", "Count", 1);
  metrics.publishStoredMetrics();
  return result;
}
