import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import pg from "pg";
import { bootstrapSettingsFromEnv, consumerBootstrapHooks, EventBridgeSchedule } from "../lib/bootstrap";
import { loadConfig } from "../lib/config";
import { type BatchResult, type ConsumerDeps, DEFAULT_CONSUMER_OPTIONS, processBatch } from "../lib/consumer";
import type { SqsBatchResponse, SqsEvent } from "../lib/queue";
import {
  createBuilders,
  createDeadLetterPublisher,
  createKeyPublisher,
  createSqsClient,
  createStateStore,
  openSchema,
  pgConnectionConfig,
  slotName,
} from "../lib/runtime";
import { createSink } from "../lib/sink";
import { createLogger, createMetrics, errorFields, type InvocationContext } from "./context";
import { loadEnvironment } from "./environment";

const logger = createLogger("slotsync-consumer");
const metrics = createMetrics("slotsync-consumer");
/** Time kept back from the Lambda's remaining time so the response is returned before the timeout. */
const SAFETY_MARGIN_MS = 5000;

let wired: Promise<ConsumerDeps> | undefined;

/** Cold start: configuration, a small connection pool, the schema, the sink and the queues, once. */
async function wire(): Promise<ConsumerDeps> {
  const env = await loadEnvironment(process.env);
  const config = loadConfig(env, { pg: true, schema: true, sink: true, queue: true, upstash: true });
  if (!config.queue || !config.sink) throw new Error("unreachable: queue and sink are required");
  const pool = new pg.Pool({ ...pgConnectionConfig(config.pgUrl, "slotsync-consumer"), max: 2 });
  // An idle connection closed by the server (restart, failover, idle timeout) is reported here;
  // without a listener it would crash the whole process. The pool opens a new one when needed.
  pool.on("error", (error) => logger.warn("idle database connection closed", errorFields(error)));
  const client = await pool.connect();
  let schema: Awaited<ReturnType<typeof openSchema>>;
  try {
    schema = await openSchema(config, env, client);
  } finally {
    client.release();
  }
  const sqs = createSqsClient(config.queue);
  const deadLetters = createDeadLetterPublisher(config.queue, sqs);
  const requeue = createKeyPublisher(config.queue, sqs);
  const sink = createSink(config.sink);
  const store = createStateStore(config.state);
  const slot = slotName(config, schema);
  const settings = bootstrapSettingsFromEnv(env);
  // The consumer that finishes a bootstrap's last range switches the alias and enables the poller.
  const completion = {
    slot,
    sink,
    store,
    ...(settings.pollerRuleName
      ? { schedule: new EventBridgeSchedule(new EventBridgeClient({}), settings.pollerRuleName) }
      : {}),
  };
  return {
    async connect() {
      const c = await pool.connect();
      return { client: c, release: (error?: Error) => c.release(error) };
    },
    builders: await createBuilders(schema, config.pluginsDir),
    sink,
    deadLetter: (letters) => deadLetters.send(letters),
    enqueue: (messages) => requeue.publish(messages),
    ...consumerBootstrapHooks(completion, {
      targetsCacheMs: settings.targetsCacheMs,
      graceMs: settings.graceMs,
    }),
  };
}

/**
 * The SQS consumer: rebuilds the batch's documents from one snapshot and bulk-writes them with
 * external versioning. Returns a partial batch response so only failed records come again.
 */
export async function handler(event: SqsEvent, context: InvocationContext): Promise<SqsBatchResponse> {
  wired ??= wire();
  let deps: ConsumerDeps;
  try {
    deps = await wired;
  } catch (error) {
    wired = undefined;
    logger.error("configuration is invalid", errorFields(error));
    throw error;
  }
  const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
  const result: BatchResult = await processBatch(event, deps, { ...DEFAULT_CONSUMER_OPTIONS, deadline });
  const { stats } = result;
  if (result.error) logger.error("batch failed", { ...stats, ...errorFields(result.error) });
  else logger.info("batch done", { ...stats });
  metrics.addMetric("DocumentsIndexed", "Count", stats.indexed);
  metrics.addMetric("DocumentsDeleted", "Count", stats.deleted);
  metrics.addMetric("VersionConflicts", "Count", stats.stale);
  metrics.addMetric("Retried", "Count", stats.retried);
  metrics.addMetric("RecordsFailed", "Count", stats.failed);
  metrics.addMetric("RecordsDeadLettered", "Count", stats.deadLettered);
  metrics.addMetric("BatchDuration", "Milliseconds", stats.durationMs);
  metrics.publishStoredMetrics();
  return result.response;
}
