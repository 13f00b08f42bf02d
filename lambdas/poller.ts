import pg from "pg";
import { loadConfig, type SlotsyncConfig } from "../lib/config";
import { DEFAULT_LOOP_OPTIONS, runPollerLoop } from "../lib/poller";
import { ChangeResolver } from "../lib/resolve";
import {
  CheckpointPollerState,
  createKeyPublisher,
  createStateStore,
  openSchema,
  pgConnectionConfig,
  QueueHandoffPublisher,
  slotName,
} from "../lib/runtime";
import type { ResolvedSchema } from "../lib/schema";
import { PgSlotReader } from "../lib/slot";
import { createLogger, createMetrics, errorFields, type InvocationContext } from "./context";
import { loadEnvironment } from "./environment";

const logger = createLogger("slotsync-poller");
const metrics = createMetrics("slotsync-poller");

interface Wired {
  config: SlotsyncConfig;
  env: Record<string, string | undefined>;
  state: CheckpointPollerState;
  publisher: QueueHandoffPublisher;
  schema?: ResolvedSchema;
}
let wired: Promise<Wired> | undefined;

/** Cold start: configuration (secrets included) is read and checked once, then reused. */
async function wire(): Promise<Wired> {
  const env = await loadEnvironment(process.env);
  const config = loadConfig(env, { pg: true, schema: true, queue: true, upstash: true });
  if (!config.queue) throw new Error("unreachable: queue is required");
  return {
    config,
    env,
    state: new CheckpointPollerState(createStateStore(config.state)),
    publisher: new QueueHandoffPublisher(createKeyPublisher(config.queue)),
  };
}

/**
 * The scheduled poller: connects, reads the slot until little Lambda time is left, hands keys to
 * SQS and advances the slot only past what SQS accepted. A second concurrent invocation finds the
 * lease taken and returns at once.
 */
export async function handler(_event: unknown, context: InvocationContext): Promise<Record<string, unknown>> {
  wired ??= wire();
  let w: Wired;
  try {
    w = await wired;
  } catch (error) {
    wired = undefined;
    logger.error("configuration is invalid", errorFields(error));
    throw error;
  }
  const deadline = Date.now() + context.getRemainingTimeInMillis();
  const db = new pg.Client(pgConnectionConfig(w.config.pgUrl, "slotsync-poller"));
  await db.connect();
  try {
    w.schema ??= await openSchema(w.config, w.env, db);
    const slot = slotName(w.config, w.schema);
    const reader = new PgSlotReader(db, slot);
    await reader.check();
    const summary = await runPollerLoop(
      { db, reader, resolver: new ChangeResolver(w.schema), publisher: w.publisher, state: w.state },
      {
        ...DEFAULT_LOOP_OPTIONS,
        slot,
        holder: context.awsRequestId,
        pollIntervalMs: w.config.poller.pollIntervalMs,
        safetyMarginMs: w.config.poller.safetyMarginMs,
        fetchSize: w.config.poller.fetchSize,
        maxChangesPerCycle: w.config.poller.maxChangesPerCycle,
        leaseTtlMs: w.config.poller.leaseTtlMs,
      },
      deadline,
    );
    const result = { ...summary, advancedTo: summary.advancedTo?.toString(), slot };
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
