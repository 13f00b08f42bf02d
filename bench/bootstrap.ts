/**
 * Bootstrap throughput against the engine's own bulk-indexing ceiling, in one run.
 *
 * Seeds N books, each with a publisher, one or two authors through book_author and about 1.5
 * reviews; bootstraps them through the real path (slot, plan, range messages on an in-process
 * queue, the consumer building documents from PostgreSQL and bulk-writing them, the alias
 * switch); then indexes the same documents, built beforehand, straight through the sink at the
 * same batch size and concurrency. Creates and drops its own database, slot and indices.
 *
 *   npx tsx bench/bootstrap.ts [--rows 1000000] [--engine elasticsearch|opensearch]
 *                              [--range-rows 2500] [--batch 10] [--concurrency 2]
 *
 * Prints one JSON object: both rates and their ratio.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  copyIndexBody,
  onRangeDone,
  runBootstrap,
  runLocalConsumers,
  WriteTargetResolver,
} from "../lib/bootstrap";
import { FileCheckpointStore } from "../lib/checkpoint";
import { DEFAULT_CONSUMER_OPTIONS } from "../lib/consumer";
import { createDocumentBuilder, type DocumentBuilder } from "../lib/document";
import { MemoryQueue, packKeys } from "../lib/queue";
import { parseSchema, resolveSchema } from "../lib/schema";
import {
  createSink,
  type DocumentSink,
  SINK_DEFAULTS,
  type SinkConfig,
  type SinkOperation,
} from "../lib/sink";
import { getServices } from "../test/support/services";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    engine: { type: "string", default: "elasticsearch" },
    "range-rows": { type: "string", default: "2500" },
    batch: { type: "string", default: "10" },
    concurrency: { type: "string", default: "2" },
  },
});
const rows = Number(args.rows);
const rangeRows = Number(args["range-rows"]);
const batch = Number(args.batch);
const concurrency = Number(args.concurrency);
const engineName = args.engine === "opensearch" ? "opensearch" : "elasticsearch";

const SCHEMA = (database: string, index: string) => [
  {
    database,
    index,
    nodes: {
      table: "book",
      columns: ["id", "isbn", "title", "description", "price", "published_at"],
      children: [
        {
          table: "publisher",
          label: "publisher",
          columns: ["id", "name", "country"],
          relationship: { type: "one_to_one", variant: "object" },
        },
        {
          table: "author",
          label: "authors",
          columns: ["id", "name", "born"],
          relationship: { type: "one_to_many", variant: "object", through_tables: ["book_author"] },
        },
        {
          table: "review",
          label: "reviews",
          columns: ["id", "reviewer", "stars", "body", "created_at"],
          relationship: { type: "one_to_many", variant: "object" },
        },
      ],
    },
  },
];

async function seed(client: pg.Client): Promise<number> {
  const started = performance.now();
  await client.query(`
    CREATE TABLE publisher (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
    CREATE TABLE author (id int PRIMARY KEY, name text NOT NULL, born date);
    CREATE TABLE book (id int PRIMARY KEY, isbn text NOT NULL UNIQUE, title text NOT NULL, description text,
                       price numeric(10, 2), published_at timestamptz, publisher_id int REFERENCES publisher (id));
    CREATE TABLE book_author (book_id int NOT NULL REFERENCES book (id), author_id int NOT NULL REFERENCES author (id),
                              PRIMARY KEY (book_id, author_id));
    CREATE TABLE review (id int PRIMARY KEY, book_id int NOT NULL REFERENCES book (id), reviewer text NOT NULL,
                         stars smallint NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL);
    INSERT INTO publisher SELECT g, 'Publisher ' || g, (ARRAY['UK', 'US', 'JP', 'FR'])[g % 4 + 1] FROM generate_series(1, 500) g;
    INSERT INTO author SELECT g, 'Author ' || g, date '1940-01-01' + g FROM generate_series(1, 50000) g;
    INSERT INTO book SELECT g, 'isbn-' || g, 'Title of book ' || g, repeat('Words about book ' || g || '. ', 5),
                            (g % 100) + 0.99, timestamptz '2000-01-01' + g * interval '1 minute', g % 500 + 1
      FROM generate_series(1, ${rows}) g;
    INSERT INTO book_author SELECT g, g % 50000 + 1 FROM generate_series(1, ${rows}) g;
    INSERT INTO book_author SELECT g, (g * 7) % 50000 + 1 FROM generate_series(1, ${rows}, 2) g
      ON CONFLICT DO NOTHING;
    INSERT INTO review SELECT g, (g * 2) / 3 + 1, 'reader ' || (g % 1000), g % 5 + 1, 'A review, number ' || g,
                              timestamptz '2024-01-01' + g * interval '1 second'
      FROM generate_series(1, ${Math.round(rows * 1.5)}) g WHERE (g * 2) / 3 + 1 <= ${rows};
    CREATE INDEX ON book (publisher_id);
    CREATE INDEX ON book_author (author_id);
    CREATE INDEX ON review (book_id);
    ALTER TABLE review REPLICA IDENTITY FULL;
    ALTER TABLE book_author REPLICA IDENTITY FULL;
  `);
  // Its own statement: VACUUM cannot run in the implicit transaction of a multi-statement query.
  // The visibility map it sets lets the planner's key walk be an index-only scan.
  await client.query("VACUUM ANALYZE");
  return performance.now() - started;
}

function sinkConfig(): SinkConfig {
  const services = getServices();
  if (engineName === "opensearch") return { engine: "opensearch", node: services.opensearch.url };
  const { url, username, password } = services.elasticsearch;
  return { engine: "elasticsearch", node: url, auth: { type: "basic", username, password } };
}

const seconds = (ms: number) => +(ms / 1000).toFixed(2);

async function main(): Promise<void> {
  const superUrl = getServices().postgres.url;
  const suffix = randomBytes(4).toString("hex");
  const database = `bench_bootstrap_${suffix}`;
  const index = `bench-bootstrap-${suffix}`;
  const slot = `bench_bootstrap_${suffix}`;
  const admin = new pg.Client({ connectionString: superUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  const url = new URL(superUrl);
  url.pathname = `/${database}`;
  const options = "-c TimeZone=UTC -c jit=off";
  const client = new pg.Client({ connectionString: url.toString(), options });
  await client.connect();
  const pool = new pg.Pool({ connectionString: url.toString(), options, max: concurrency + 1 });
  const sink = createSink(sinkConfig());
  const dir = await mkdtemp(join(tmpdir(), "bench-bootstrap-"));
  const created: string[] = [];
  try {
    const seedMs = await seed(client);
    const schema = await resolveSchema(parseSchema(SCHEMA(database, index)), client);
    const spec = schema.indices[0];
    if (!spec) throw new Error("no index");
    const builder = await createDocumentBuilder(spec);
    const store = new FileCheckpointStore({ dir });
    const queue = new MemoryQueue({ maxReceiveCount: Number.POSITIVE_INFINITY });
    const completion = { slot, sink, store };
    const consumer = {
      connect: async () => {
        const c = await pool.connect();
        return { client: c, release: (e?: Error) => c.release(e) };
      },
      builders: new Map([[index, builder]]),
      sink,
      deadLetter: queue.deadLetterPublisher().send,
      targets: new WriteTargetResolver({ slot, store, sink }).targets,
      enqueue: (messages: Parameters<MemoryQueue["publish"]>[0]) => queue.publish(messages),
      rangeDone: async (id: string, range: string, documents: number) => {
        await onRangeDone(completion, id, range, documents);
      },
    };

    // 1. Bootstrap, end to end: from nothing to the alias serving every document.
    const started = performance.now();
    const summary = await runBootstrap(
      { ...completion, db: client, schema, publisher: queue },
      { rangeRows, targetsCacheMs: 0 },
    );
    const planned = performance.now();
    const copy = summary.indices[0];
    if (!copy?.concrete) throw new Error("no copy started");
    created.push(copy.concrete);
    const consumed = await runLocalConsumers(queue, consumer, { concurrency, batchSize: batch });
    const finished = performance.now();
    const targets = await sink.getAliasTargets(index);
    if (targets[0] !== copy.concrete) throw new Error(`alias not switched: ${targets.join(", ")}`);
    await sink.refresh(index);
    const stored = await sink.count(index);
    if (stored !== rows) throw new Error(`${stored} documents in the index, ${rows} expected`);
    const bootstrapMs = finished - started;

    // 2. The ceiling: the same documents, built beforehand, bulk-indexed by the same sink.
    const buildStarted = performance.now();
    const ops = await buildAll(client, builder, index);
    const buildMs = performance.now() - buildStarted;
    const ceilingIndex = `${index}-ceiling`;
    await sink.createIndex(ceilingIndex, copyIndexBody(spec.spec));
    created.push(ceilingIndex);
    for (const op of ops) op.index = ceilingIndex;
    const perBatch = rangeRows * batch;
    const ceilingStarted = performance.now();
    await bulkIndex(sink, ops, perBatch, concurrency);
    const ceilingMs = performance.now() - ceilingStarted;
    await sink.refresh(ceilingIndex);
    if ((await sink.count(ceilingIndex)) !== rows) throw new Error("the ceiling run lost documents");

    // 3. The live path: every root key as the poller hands keys on (packed keys messages), rebuilt
    // and written by the same consumers at a higher version, so each write replaces a document.
    const { rows: keyRows } = await client.query<{ id: string }>(
      `SELECT id::text AS id FROM book ORDER BY id`,
    );
    const liveVersion = (1n << 40n) + BigInt(Date.now());
    await queue.publish(packKeys({ index, keys: keyRows.map((r) => [r.id]), lsn: liveVersion }));
    const liveStarted = performance.now();
    const live = await runLocalConsumers(queue, consumer, { concurrency, batchSize: batch });
    const liveMs = performance.now() - liveStarted;
    const [sample] = await sink.getDocuments(index, [keyRows[0]?.id ?? "1"]);
    if (sample?.version !== liveVersion) throw new Error("the live path did not write the newer version");

    const bootstrapRate = rows / (bootstrapMs / 1000);
    const ceilingRate = rows / (ceilingMs / 1000);
    const liveRate = rows / (liveMs / 1000);
    console.log(
      JSON.stringify(
        {
          rows,
          engine: engineName,
          rangeRows,
          batchMessages: batch,
          concurrency,
          rangePageSize: DEFAULT_CONSUMER_OPTIONS.rangePageSize,
          bulkChunkSize: SINK_DEFAULTS.chunkSize,
          seedSeconds: seconds(seedMs),
          bootstrap: {
            seconds: seconds(bootstrapMs),
            planAndSendSeconds: seconds(planned - started),
            ranges: copy.total,
            batches: consumed.batches,
            documentsPerSecond: Math.round(bootstrapRate),
          },
          ceiling: {
            seconds: seconds(ceilingMs),
            documentsPerSecond: Math.round(ceilingRate),
            prebuildSeconds: seconds(buildMs),
          },
          ratio: +(bootstrapRate / ceilingRate).toFixed(3),
          consumerKeysPath: {
            seconds: seconds(liveMs),
            batches: live.batches,
            documentsPerSecond: Math.round(liveRate),
            ratioToCeiling: +(liveRate / ceilingRate).toFixed(3),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    for (const name of created) await sink.deleteIndex(name).catch(() => undefined);
    await sink.close();
    await pool.end();
    await client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
    await client.end();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every document, built once by key range, as index operations. */
async function buildAll(
  client: pg.Client,
  builder: DocumentBuilder,
  index: string,
): Promise<SinkOperation[]> {
  const ops: SinkOperation[] = [];
  let after: string[] | undefined;
  for (;;) {
    const page = await builder.buildRange(client, { ...(after ? { after } : {}), limit: 5000 });
    for (const doc of page.documents) {
      if (doc.action === "index")
        ops.push({ kind: "index", index, id: doc._id, version: 1n, source: doc._source });
    }
    after = page.lastKey;
    if (!page.more || !after) return ops;
  }
}

/** `concurrency` workers, each writing one consumer batch's worth of operations per `write` call. */
async function bulkIndex(
  sink: DocumentSink,
  ops: SinkOperation[],
  perBatch: number,
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ops.length) {
      const slice = ops.slice(next, next + perBatch);
      next += perBatch;
      const { stats } = await sink.write(slice);
      if (stats.indexed !== slice.length) throw new Error(`bulk indexing failed: ${JSON.stringify(stats)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

await main();
