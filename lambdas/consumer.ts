import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { bootstrapSettingsFromEnv, EventBridgeSchedule } from "../lib/bootstrap";
import { loadConfig, slotName } from "../lib/config";
import {
  type BatchResult,
  type ConsumerDeps,
  type ConsumerOptions,
  consumerOptionsFromEnv,
  DEFAULT_CONSUMER_OPTIONS,
  processBatch,
} from "../lib/consumer";
import { createPool } from "../lib/database";
import {
  holdDriftedEvent,
  openWatchedSchema,
  SchemaDriftError,
  SqsRecordDelayer,
  type WatchedSchema,
} from "../lib/drift";
import type { SqsBatchResponse, SqsEvent } from "../lib/queue";
import {
  createBuilders,
  createConsumerDeps,
  createDeadLetterPublisher,
  createKeyPublisher,
  createSqsClient,
  createStateStore,
  readSchema,
} from "../lib/runtime";
import { createDocumentSink } from "../lib/sink";
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

const logger = createLogger("slotsync-consumer");
const metrics = createMetrics("slotsync-consumer");
/** Time kept back from the Lambda's remaining time so the response is returned before the timeout. */
const SAFETY_MARGIN_MS = 5000;

/**
 * A consumer whose schema no longer resolves (a table or column it uses is gone): it builds
 * nothing, and holds each event's records back with a long back-off until the schema is fixed.
 */
class HeldByDrift {
  constructor(
    readonly drift: SchemaDriftError,
    readonly hold: (event: SqsEvent) => ReturnType<typeof holdDriftedEvent>,
  ) {}
}

/** The consumer's options from the environment (CONSUMER_LOOK_AHEAD), read at the cold start. */
let consumerOptions: ConsumerOptions | undefined;

/** Ends the wired connection pool, when schema drift makes the next invocation wire again. */
let closePool: (() => Promise<void>) | undefined;

/** Cold start: configuration, a small connection pool, the schema, the sink and the queues, once. */
async function wire(): Promise<ConsumerDeps | HeldByDrift> {
  const env = await loadEnvironment(process.env);
  const config = loadConfig(env, { pg: true, schema: true, sink: true, queue: true, upstash: true });
  warnConfig(logger, config);
  consumerOptions = consumerOptionsFromEnv(env);
  // An idle connection closed by the server (restart, failover, idle timeout) is reported to the
  // listener; without one it would crash the whole process. The pool opens a new one when needed.
  const pool = createPool(config.pgUrl, "slotsync-consumer", 2, DATABASE_POLICY, (error) =>
    logger.warn("idle database connection closed", errorFields(error)),
  );
  closePool = () => pool.end().catch(() => undefined);
  const sqs = createSqsClient(config.queue);
  const deadLetters = createDeadLetterPublisher(config.queue, sqs);
  const store = createStateStore(config.state);
  const delayer = new SqsRecordDelayer({
    client: sqs,
    queueUrl: config.queue.url,
    settings: { firstDelaySeconds: config.drift.retryDelaySeconds },
  });
  const client = await pool.connect();
  const spec = await readSchema(config, env);
  let opened: WatchedSchema;
  try {
    opened = await openWatchedSchema({
      db: client,
      spec,
      store,
      slotFor: () => slotName(config),
      source: "consumer",
      intervalMs: config.drift.checkIntervalMs,
    });
  } finally {
    client.release();
  }
  if ("drift" in opened) {
    const drift = opened.drift;
    return new HeldByDrift(drift, (event) =>
      holdDriftedEvent(event, drift, {
        delayer,
        deadLetter: (letters) => deadLetters.send(letters),
        maxReceives: config.drift.maxReceiveCount,
      }),
    );
  }
  const { schema, guard } = opened;
  const requeue = createKeyPublisher(config.queue, sqs);
  const settings = bootstrapSettingsFromEnv(env);
  return createConsumerDeps({
    pool,
    builders: await createBuilders(schema, config.pluginsDir),
    // The consumer that finishes a bootstrap's last range switches the alias and enables the poller.
    completion: {
      slot: slotName(config),
      sink: createDocumentSink(config.sink),
      store,
      ...(settings.pollerRuleName
        ? { schedule: new EventBridgeSchedule(new EventBridgeClient({}), settings.pollerRuleName) }
        : {}),
    },
    timing: { targetsCacheMs: settings.targetsCacheMs, graceMs: settings.graceMs },
    deadLetter: (letters) => deadLetters.send(letters),
    enqueue: (messages) => requeue.publish(messages),
    defer: (messages, delaySeconds) => requeue.publish(messages, { delaySeconds }),
    drift: { guard, delayer, maxReceives: config.drift.maxReceiveCount },
    schema: { spec, resolved: schema, pluginsDir: config.pluginsDir },
  });
}

const coldStart = new ColdStart(logger, wire);

/**
 * The SQS consumer: rebuilds the batch's documents from one snapshot and bulk-writes them with
 * external versioning. Returns a partial batch response so only failed records come again.
 */
export async function handler(event: SqsEvent, context: InvocationContext): Promise<SqsBatchResponse> {
  const deps = await coldStart.begin(context);
  if (deps instanceof HeldByDrift) return holdForDrift(deps, event);
  const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
  const result: BatchResult = await processBatch(event, deps, {
    ...(consumerOptions ?? DEFAULT_CONSUMER_OPTIONS),
    deadline,
  });
  const { stats } = result;
  if (result.error instanceof SchemaDriftError) {
    // Wire again next time: a redeployed schema, a restored column or accepted types resolve anew.
    coldStart.discard();
    await closePool?.();
    logger.error("schema drift: records wait for the schema fix", {
      ...stats,
      ...errorFields(result.error),
      findings: result.error.findings,
    });
  } else if (result.error) logger.error("batch failed", { ...stats, ...errorFields(result.error) });
  else logger.info("batch done", { ...stats });
  metrics.addMetric("DocumentsIndexed", "Count", stats.indexed);
  metrics.addMetric("DocumentsDeleted", "Count", stats.deleted);
  metrics.addMetric("VersionConflicts", "Count", stats.stale);
  metrics.addMetric("Retried", "Count", stats.retried);
  metrics.addMetric("RecordsFailed", "Count", stats.failed);
  metrics.addMetric("RecordsDeadLettered", "Count", stats.deadLettered);
  metrics.addMetric("KeysDeadLettered", "Count", stats.poisoned);
  metrics.addMetric("BatchDuration", "Milliseconds", stats.durationMs);
  addSinkMetrics(stats);
  metrics.publishStoredMetrics();
  return result.response;
}

/**
 * How the search engine answered this batch: the mean `_bulk` latency, the operations per request
 * in use (adaptive sizing), the share of requests pushed back with 429, and the records sent
 * again because the deadline or the pushback held them back.
 */
function addSinkMetrics(stats: BatchResult["stats"]): void {
  metrics.addMetric("RecordsDeferred", "Count", stats.deferred ?? 0);
  if (stats.requests === 0) return;
  metrics.addMetric("BulkLatency", "Milliseconds", Math.round((stats.requestMs ?? 0) / stats.requests));
  if (stats.chunkSize !== undefined) metrics.addMetric("BulkChunkSize", "Count", stats.chunkSize);
  metrics.addMetric("BulkThrottleRate", "Percent", (100 * (stats.throttledRequests ?? 0)) / stats.requests);
}

/** One event while the schema does not resolve: hold its records back, say so once, wire again next time. */
async function holdForDrift(held: HeldByDrift, event: SqsEvent): Promise<SqsBatchResponse> {
  coldStart.discard();
  await closePool?.();
  const result = await held.hold(event);
  logger.error("schema drift: the schema does not resolve; records wait for the schema fix", {
    ...errorFields(held.drift),
    findings: held.drift.findings,
    records: event.Records.length,
    delayed: result.delayed,
    deadLettered: result.deadLettered,
    problems: result.problems.map((p) => errorFields(p)),
  });
  metrics.addMetric("RecordsFailed", "Count", result.response.batchItemFailures.length);
  metrics.addMetric("RecordsDeadLettered", "Count", result.deadLettered);
  metrics.publishStoredMetrics();
  return result.response;
}
