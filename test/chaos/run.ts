import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import pg from "pg";
import { createDocumentBuilder } from "../../lib/document";
import { encodeMessage } from "../../lib/queue";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { ensureServices } from "../../tools/services";
import { type ConsistencyReport, compareIndexWithDatabase } from "../support/consistency";
import { startFaultProxy } from "../support/fault-proxy";
import { createTestQueues } from "../support/sqs";
import { type LoadStats, runLoad } from "./load";
import { type OperationStats, runOperation } from "./operations";
import { Worker, type WorkerCounters } from "./processes";
import { seededRandom } from "./random";
import { CHAOS_DDL, chaosSchema, seedSql } from "./schema";
import { startTcpSwitch } from "./tcp-switch";

export interface ChaosOptions {
  durationSeconds: number;
  connections: number;
  seed: number;
  consumers: number;
  books: number;
  /** Mean seconds between SIGKILLs of a random worker. */
  killEverySeconds: number;
  /** Share of search engine requests answered with 429 or 503. */
  faultRate: number;
  /** Mean seconds between two operations (partition lifecycle, truncates, DDL); 0: none. */
  operationEverySeconds: number;
  log: (line: string) => void;
  /** Ends the load early (Ctrl-C); draining, the comparison and the clean-up still happen. */
  signal?: AbortSignal;
}

export const DEFAULT_CHAOS: ChaosOptions = {
  durationSeconds: 120,
  connections: 32,
  seed: 1,
  consumers: 3,
  books: 3000,
  killEverySeconds: 4,
  faultRate: 0.05,
  operationEverySeconds: 6,
  log: () => {},
};

export interface ChaosReport {
  options: Omit<ChaosOptions, "log" | "signal">;
  load: LoadStats;
  kills: { poller: number; consumer: number };
  workers: WorkerCounters;
  injected: { searchFaults: number; upstashOutages: number };
  /** Partition lifecycle, truncates and DDL run during the load. */
  operations: OperationStats;
  drainSeconds: number;
  compared: number;
  indexed: number;
  /** Every difference, precisely: missing and extra ids, and documents whose sources differ. */
  differences: {
    id: string;
    kind: "missing" | "extra" | "different";
    expected?: unknown;
    actual?: unknown;
  }[];
  differentCount: number;
}

/**
 * The chaos run: load from many connections while the poller and consumers (the Lambda handlers,
 * in their own processes) are SIGKILLed and restarted, the queue redelivers (short visibility
 * timeout, parallel consumers), the search engine answers 429/503 and Upstash goes away now and
 * then. After the load stops and the pipeline drains, the index must equal the database.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log;
  const random = seededRandom(options.seed);
  const { endpoints } = await ensureServices(["postgres", "redis", "upstash", "elasticsearch", "elasticmq"]);
  const name = `chaos_${process.pid}_${options.seed}`;
  const admin = new pg.Client({ connectionString: endpoints.postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = endpoints.postgres.url.replace(/\/postgres$/, `/${name}`);
  const slot = `${name}_slot`;
  const index = `chaos-${process.pid}-${options.seed}`;
  const queues = await createTestQueues("chaos", 1000);
  const esProxy = await startFaultProxy({
    target: endpoints.elasticsearch.url,
    seed: options.seed,
    engine: "elasticsearch",
  });
  const upstashSwitch = await startTcpSwitch({
    host: "127.0.0.1",
    port: Number(new URL(endpoints.upstash.url).port),
  });
  const es = endpoints.elasticsearch;
  const sink = createSink({
    engine: "elasticsearch",
    node: es.url,
    auth: { type: "basic", username: es.username, password: es.password },
  });
  const counters: WorkerCounters = {
    pollerRuns: 0,
    pollerErrors: 0,
    batches: 0,
    records: 0,
    redelivered: 0,
    failedRecords: 0,
    consumerErrors: 0,
    lastErrors: [],
  };
  const workers: Worker[] = [];
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    log(`database ${name}: seeding ${options.books} books`);
    await db.query(CHAOS_DDL);
    await db.query(seedSql(options.books));
    const schemaJson = chaosSchema(name, index);
    // The schema must resolve before anything runs (the workers resolve it themselves).
    await resolveSchema(parseSchema(schemaJson), db);
    await sink.createIndex(index, {
      settings: { ...TOMBSTONE_INDEX_SETTINGS, number_of_shards: 1, number_of_replicas: 0 },
    });

    // The initial copy, as bootstrap does it: slot first, then a copy versioned with its consistent point.
    const { rows } = await db.query<{ lsn: string }>(
      "SELECT (lsn - '0/0')::text AS lsn FROM pg_create_logical_replication_slot($1, 'wal2json')",
      [slot],
    );
    await queues.client.send(
      new (await import("@aws-sdk/client-sqs")).SendMessageCommand({
        QueueUrl: queues.queueUrl,
        MessageBody: encodeMessage({
          kind: "rebuild",
          index,
          lsn: BigInt(rows[0]?.lsn ?? "0"),
          sentAt: new Date().toISOString(),
        }),
      }),
    );

    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const schemaFile = join(mkdtempSync(join(tmpdir(), "chaos-")), "schema.json");
    writeFileSync(schemaFile, JSON.stringify(schemaJson));
    const env: Record<string, string> = {
      PG_URL: url,
      SCHEMA: schemaFile,
      SLOTSYNC_SLOT: slot,
      ELASTICSEARCH_URL: esProxy.url,
      ELASTICSEARCH_USER: es.username,
      ELASTICSEARCH_PASSWORD: es.password,
      ELASTICSEARCH_INITIAL_BACKOFF: "0.02",
      ELASTICSEARCH_MAX_BACKOFF: "0.5",
      UPSTASH_REDIS_REST_URL: upstashSwitch.url,
      UPSTASH_REDIS_REST_TOKEN: endpoints.upstash.token,
      SQS_QUEUE_URL: queues.queueUrl,
      SQS_DLQ_URL: queues.dlqUrl,
      SQS_ENDPOINT: endpoints.elasticmq.endpoint,
      AWS_REGION: endpoints.elasticmq.region,
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "x",
      POLL_INTERVAL_SECONDS: "0.2",
      POLLER_SAFETY_MARGIN_SECONDS: "1",
      POLLER_LEASE_TTL_SECONDS: "3",
      CHAOS_VISIBILITY_SECONDS: "4",
    };
    workers.push(new Worker("poller", env, counters));
    for (let i = 0; i < options.consumers; i++) workers.push(new Worker("consumer", env, counters));
    for (const w of workers) w.start();

    esProxy.setFaults({ rate: options.faultRate, statuses: [429, 503] });
    const stopLoad = new AbortController();
    const load = runLoad({
      url,
      connections: options.connections,
      seed: options.seed,
      books: options.books,
      largeRows: 6000,
      signal: stopLoad.signal,
    });
    const chaosEnds = Date.now() + options.durationSeconds * 1000;
    // Operations from a session of their own, interleaved with the load's transactions.
    const operations: OperationStats = { done: {}, skipped: {} };
    const operator = (async () => {
      if (options.operationEverySeconds <= 0) return;
      const opRandom = seededRandom(options.seed * 7919);
      const session = new pg.Client({ connectionString: url });
      await session.connect();
      try {
        while (!stopLoad.signal.aborted) {
          await sleep(options.operationEverySeconds * 1000 * (0.5 + opRandom()));
          if (stopLoad.signal.aborted) break;
          await runOperation(session, opRandom, operations);
        }
      } finally {
        await session.end().catch(() => undefined);
      }
    })();
    log(`load and faults for ${options.durationSeconds}s`);
    while (Date.now() < chaosEnds && !options.signal?.aborted) {
      await sleep(options.killEverySeconds * 1000 * (0.5 + random()));
      const victim = workers[Math.floor(random() * workers.length)];
      if (victim) {
        victim.kill();
        await sleep(100 + random() * 400);
        victim.start();
      }
      if (random() < 0.2) {
        upstashSwitch.down();
        await sleep(500 + random() * 1500);
        upstashSwitch.up();
      }
    }
    stopLoad.abort();
    const loadStats = await load;
    await operator;
    esProxy.setFaults({});
    upstashSwitch.up();
    log(`load stopped: ${loadStats.committed} transactions; draining`);

    // Drain: the slot has passed a marker transaction committed after the load, and the queue is empty.
    const drainStarted = Date.now();
    await db.query("UPDATE publisher SET name = name WHERE id = 1");
    const { rows: marker } = await db.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    await waitFor(
      async () => {
        const r = await db.query<{ ok: boolean }>(
          "SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1",
          [slot, marker[0]?.lsn],
        );
        return r.rows[0]?.ok === true;
      },
      180_000,
      "the poller to pass the marker transaction",
    );
    let emptySince = 0;
    await waitFor(
      async () => {
        const a = await queues.client.send(
          new GetQueueAttributesCommand({
            QueueUrl: queues.queueUrl,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
          }),
        );
        const pending =
          Number(a.Attributes?.ApproximateNumberOfMessages ?? 1) +
          Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 1);
        if (pending > 0) emptySince = 0;
        else emptySince ||= Date.now();
        return emptySince > 0 && Date.now() - emptySince > 2000;
      },
      180_000,
      "the queue to drain",
    );
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    for (const w of workers) await w.stop();

    log("comparing the index with the database");
    const check = new pg.Client({ connectionString: url, options: "-c TimeZone=UTC -c jit=off" });
    await check.connect();
    let comparison: ConsistencyReport;
    try {
      // What `slotsync render` builds now: columns added during the run belong in the documents.
      const now = await resolveSchema(parseSchema(schemaJson), check);
      comparison = await compareIndexWithDatabase({
        sink,
        index,
        builder: await createDocumentBuilder(now.indices[0] ?? (undefined as never)),
        client: check,
        maxDifferences: 100,
      });
    } finally {
      await check.end();
    }
    log(`compared ${comparison.compared} documents`);
    return {
      options: {
        durationSeconds: options.durationSeconds,
        connections: options.connections,
        seed: options.seed,
        consumers: options.consumers,
        books: options.books,
        killEverySeconds: options.killEverySeconds,
        faultRate: options.faultRate,
        operationEverySeconds: options.operationEverySeconds,
      },
      load: loadStats,
      kills: {
        poller: workers.filter((w) => w.role === "poller").reduce((n, w) => n + w.kills, 0),
        consumer: workers.filter((w) => w.role === "consumer").reduce((n, w) => n + w.kills, 0),
      },
      workers: counters,
      injected: { searchFaults: esProxy.stats().injected, upstashOutages: upstashSwitch.outages },
      operations,
      drainSeconds,
      compared: comparison.compared,
      indexed: comparison.stored,
      differences: [
        ...comparison.missing.map((id) => ({ id, kind: "missing" as const })),
        ...comparison.extra.map((id) => ({ id, kind: "extra" as const })),
        ...comparison.different.map((d) => ({
          id: d.id,
          kind: "different" as const,
          expected: d.expected,
          actual: d.actual,
        })),
      ],
      differentCount: comparison.missing.length + comparison.extra.length + comparison.differentCount,
    };
  } finally {
    for (const w of workers) await w.stop();
    await db.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
    await db.end();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await sink.deleteIndex(index).catch(() => undefined);
    await sink.close();
    await queues.remove();
    await esProxy.close();
    await upstashSwitch.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(250);
  }
}
