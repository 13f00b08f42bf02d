/**
 * `npm run bench -- --only slow-sink`: sync throughput against a search engine slowed to 10 ms per
 * document, adaptive bulk sizing against fixed sizing, in one run.
 *
 * The slow engine is the real Elasticsearch behind the fault proxy, which makes each `_bulk` wait
 * 10 ms per document before it is forwarded, with two requests worked on at a time (the engine's
 * write threads) and a 429 `es_rejected_execution_exception` for a request that arrives while more
 * than 1,000 documents wait (a full write queue). Five consumers (the stack's default
 * maxConcurrency) run the consumer's batch code in process, each with its own sink as a Lambda
 * container has, a 60 s invocation (55 s to write) and SQS's batch of 10 messages of 100
 * keys; the in-process consumer loop over a MemoryQueue plays SQS and the event source (a failed
 * record comes back and counts a receive; after 5 it is dead-lettered). Both runs sync the same changed rows and end with the index checked
 * against the database.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { type ConsumerDeps, DEFAULT_CONSUMER_OPTIONS, processBatch, runConsumerLoop } from "../lib/consumer";
import { lender } from "../lib/database";
import { encodeMessage, type KeysMessage, MemoryQueue } from "../lib/queue";
import { createBuilders } from "../lib/runtime";
import { parseSchema, resolveSchema } from "../lib/schema";
import { createSink, type SearchSink, type SinkConfig, TOMBSTONE_INDEX_SETTINGS } from "../lib/sink";
import { type FaultProxy, startFaultProxy } from "../test/support/fault-proxy";
import { createDatabase, databaseUrl, dropDatabase } from "./seed";

/** What one arm of the comparison did. */
export interface SlowSinkArm {
  sizing: "adaptive" | "fixed";
  seconds: number;
  documentsPerSecond: number;
  /** Documents in the index at the end that match the database. */
  written: number;
  invocations: number;
  recordsFailed: number;
  recordsDeferred: number;
  /** Records that came back more than the queue's 5 receives: the DLQ in the stack. */
  wouldBeDeadLettered: number;
  bulkRequests: number;
  /** Requests the proxy refused with 429 (full queue). */
  rejected429: number;
  /** Median documents per request over the last 50 requests. */
  chunkSize: number;
  finished: boolean;
}

export interface SlowSinkResult {
  documents: number;
  perDocMs: number;
  consumers: number;
  adaptive: SlowSinkArm;
  fixed: SlowSinkArm;
  /** adaptive / fixed documents per second. */
  ratio: number;
}

const CONSUMERS = 5;
const LAMBDA_MS = 60_000;
const MARGIN_MS = 5_000;
const MAX_RECEIVES = 5;
// Live changes arrive in many small messages (a poller cycle's keys), not a few full ones:
// with 100 keys a message, the five consumers share the work as they would.
const KEYS_PER_MESSAGE = 100;

/** Runs both arms; `documents` rows are changed and synced in each. */
export async function benchSlowSink(options: {
  superUrl: string;
  elasticsearch: { url: string; username: string; password: string };
  documents: number;
  perDocMs: number;
  /** Longest an arm may run before it is reported unfinished. */
  capSeconds: number;
  log: (line: string) => void;
}): Promise<SlowSinkResult> {
  const database = `slotsync_bench_slow_${randomBytes(3).toString("hex")}`;
  await createDatabase(options.superUrl, database);
  const url = databaseUrl(options.superUrl, database);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const proxy = await startFaultProxy({ target: options.elasticsearch.url, seed: 22 });
  try {
    await admin.query(`CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL, body text NOT NULL)`);
    await admin.query(
      `INSERT INTO item SELECT g, 'item ' || g, repeat(md5(g::text), 8) FROM generate_series(1, $1) g`,
      [options.documents],
    );
    const arms: SlowSinkArm[] = [];
    for (const sizing of ["adaptive", "fixed"] as const) {
      options.log(`${sizing} sizing: ${options.documents} documents at ${options.perDocMs} ms each...`);
      arms.push(await runArm(sizing, { ...options, url, database, admin, proxy }));
      options.log(JSON.stringify(arms.at(-1)));
    }
    const [adaptive, fixed] = arms as [SlowSinkArm, SlowSinkArm];
    return {
      documents: options.documents,
      perDocMs: options.perDocMs,
      consumers: CONSUMERS,
      adaptive,
      fixed,
      ratio: Math.round((adaptive.documentsPerSecond / fixed.documentsPerSecond) * 100) / 100,
    };
  } finally {
    await proxy.close();
    await admin.end();
    await dropDatabase(options.superUrl, database);
  }
}

async function runArm(
  sizing: "adaptive" | "fixed",
  o: {
    url: string;
    database: string;
    admin: pg.Client;
    proxy: FaultProxy;
    elasticsearch: { url: string; username: string; password: string };
    documents: number;
    perDocMs: number;
    capSeconds: number;
  },
): Promise<SlowSinkArm> {
  const index = `bench_slow_${sizing}_${randomBytes(3).toString("hex")}`;
  const auth = {
    type: "basic" as const,
    username: o.elasticsearch.username,
    password: o.elasticsearch.password,
  };
  const direct = createSink({ engine: "elasticsearch", node: o.elasticsearch.url, auth });
  await direct.createIndex(index, { settings: { ...TOMBSTONE_INDEX_SETTINGS, number_of_replicas: 0 } });
  const schema = parseSchema([
    { database: o.database, index, nodes: { table: "item", columns: ["id", "name", "body"] } },
  ]);
  const resolved = await resolveSchema(schema, o.admin);
  const builders = await createBuilders(resolved, undefined);
  const version = BigInt(Date.now()) * 1000n;
  // A failed record comes back at once and counts a receive; after 5 it is dead-lettered.
  const queue = new MemoryQueue({ maxReceiveCount: MAX_RECEIVES, visibilityTimeoutMs: LAMBDA_MS });
  const messages: KeysMessage[] = [];
  for (let from = 1; from <= o.documents; from += KEYS_PER_MESSAGE) {
    const keys = Array.from({ length: Math.min(KEYS_PER_MESSAGE, o.documents - from + 1) }, (_, i) => [
      String(from + i),
    ]);
    const message: KeysMessage = {
      kind: "keys",
      index,
      keys,
      lsn: version,
      sentAt: new Date().toISOString(),
    };
    messages.push(message);
  }
  await queue.publish(messages);
  o.proxy.setFaults({ bulkDelayPerDocMs: o.perDocMs, bulkWorkers: 2, bulkQueueLimit: 1000 });
  const before = o.proxy.stats();
  const config: SinkConfig = {
    engine: "elasticsearch",
    node: o.proxy.url,
    auth,
    ...(sizing === "fixed" ? { adaptive: false } : {}),
  };
  const totals = { invocations: 0, failed: 0, deferred: 0 };
  const pool = new pg.Pool({ connectionString: o.url, max: 2 * CONSUMERS });
  const started = Date.now();
  const cap = AbortSignal.timeout(o.capSeconds * 1000);
  // One loop of one worker per consumer, each with its own sink as a Lambda container has.
  const consumer = (sink: SearchSink) => {
    const deps: ConsumerDeps = {
      connect: lender(pool),
      builders,
      sink,
      deadLetter: async () => undefined,
      defer: async (deferred, delaySeconds) => {
        for (const message of deferred) queue.sendBody(encodeMessage(message), {}, delaySeconds * 1000);
      },
    };
    return runConsumerLoop(
      queue,
      (event) =>
        processBatch(event, deps, {
          ...DEFAULT_CONSUMER_OPTIONS,
          deadline: Date.now() + LAMBDA_MS - MARGIN_MS,
        }),
      {
        concurrency: 1,
        signal: cap,
        idleMs: 100,
        retryDelayMs: () => 0,
        onBatch(outcome) {
          if (outcome.messages.length === 0) return;
          totals.invocations++;
          totals.deferred += outcome.stats.deferred ?? 0;
          totals.failed += outcome.failed;
        },
      },
    );
  };
  const sinks = Array.from({ length: CONSUMERS }, () => createSink(config));
  try {
    await Promise.all(sinks.map((s) => consumer(s)));
  } finally {
    await Promise.all(sinks.map((s) => s.close()));
    await pool.end();
  }
  const seconds = (Date.now() - started) / 1000;
  await direct.refresh(index);
  const written = await direct.count(index);
  const after = o.proxy.stats();
  const sizes = after.bulkSizes.slice(before.bulkSizes.length);
  const tail = sizes.slice(-50).sort((a, b) => a - b);
  o.proxy.setFaults({});
  await direct.deleteIndex(index);
  await direct.close();
  return {
    sizing,
    seconds: Math.round(seconds * 10) / 10,
    documentsPerSecond: Math.round((written / seconds) * 10) / 10,
    written,
    invocations: totals.invocations,
    recordsFailed: totals.failed,
    recordsDeferred: totals.deferred,
    wouldBeDeadLettered: queue.counts().deadLettered,
    bulkRequests: sizes.length,
    rejected429: (after.byStatus[429] ?? 0) - (before.byStatus[429] ?? 0),
    chunkSize: tail[Math.floor(tail.length / 2)] ?? 0,
    finished: written === o.documents && queue.pending() === 0,
  };
}
