/**
 * Bootstrap throughput against the engine's own bulk-indexing ceiling, in one run (part of
 * `npm run bench`, bench/main.ts).
 *
 * Bootstraps a seeded bookstore (bench/seed.ts) through the real path (slot, plan, range messages
 * on an in-process queue, the consumer building documents from PostgreSQL and bulk-writing them,
 * the alias switch); and indexes the same documents, built beforehand, straight through a sink of
 * the same configuration (a new one, so its adaptive bulk sizes start where the bootstrap's did),
 * into an index with the same settings and mappings, at the same batch size and concurrency: the
 * ceiling. The ceiling runs once before and once after the bootstrap, and the bootstrap is compared
 * with the faster of the two: a machine that drifts while the three run (an engine still warming
 * up, a checkpoint, a neighbour) can then only make the ratio worse, never better. All of it runs
 * after a checkpoint, on a warmed engine: 100,000 of the documents are indexed into a scratch index
 * first. Leaves the slot and the served index in place for the steady-state runs; removes the
 * ceiling's and the scratch index.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { copyIndexBody, onRangeDone, runBootstrap, WriteTargetResolver } from "../lib/bootstrap";
import { FileCheckpointStore } from "../lib/checkpoint";
import { batchHandler, DEFAULT_CONSUMER_OPTIONS, DEFAULT_LOOK_AHEAD, runConsumerLoop } from "../lib/consumer";
import { lender } from "../lib/database";
import { createDocumentBuilder, type DocumentBuilder } from "../lib/document";
import { MemoryQueue } from "../lib/queue";
import { documentOperation } from "../lib/reconcile";
import { parseSchema, resolveSchema } from "../lib/schema";
import { createSink, type SearchSink, SINK_DEFAULTS, type SinkConfig, type SinkOperation } from "../lib/sink";
import { bookstoreSchema } from "./seed";

export interface BootstrapBenchOptions {
  /** URL of the seeded database. */
  url: string;
  database: string;
  /** The schema's index name (the alias the bootstrap serves). */
  index: string;
  slot: string;
  rows: number;
  sink: SinkConfig;
  /** Root rows per range message. */
  rangeRows: number;
  /** Messages per consumer batch (the event source mapping's batch size). */
  batch: number;
  concurrency: number;
  /** Chunks the consumer builds ahead of the write in flight (default: the consumer's). */
  lookAhead?: number;
}

export interface BootstrapBenchResult {
  rows: number;
  rangeRows: number;
  batchMessages: number;
  concurrency: number;
  rangePageSize: number;
  lookAhead: number;
  bulkChunkSize: number;
  bootstrap: {
    seconds: number;
    planAndSendSeconds: number;
    ranges: number;
    batches: number;
    documentsPerSecond: number;
  };
  /** The faster of the ceiling's two runs, and each run's own rate. */
  ceiling: {
    seconds: number;
    documentsPerSecond: number;
    before: number;
    after: number;
    prebuildSeconds: number;
  };
  /** Seconds spent warming the engine up before the pair (not measured). */
  warmUpSeconds: number;
  ratio: number;
  /** The physical index the alias serves after the bootstrap. */
  concreteIndex: string;
}

const seconds = (ms: number) => +(ms / 1000).toFixed(2);

/** Runs the bootstrap and the ceiling on an already seeded database; see the file comment. */
export async function benchBootstrap(o: BootstrapBenchOptions): Promise<BootstrapBenchResult> {
  const { rows, rangeRows, batch, concurrency, index, slot, database } = o;
  const consumerOptions = {
    ...DEFAULT_CONSUMER_OPTIONS,
    ...(o.lookAhead === undefined ? {} : { lookAhead: o.lookAhead }),
  };
  const options = "-c TimeZone=UTC -c jit=off";
  const client = new pg.Client({ connectionString: o.url, options });
  await client.connect();
  const pool = new pg.Pool({ connectionString: o.url, options, max: concurrency + 1 });
  const sink = createSink(o.sink);
  const dir = await mkdtemp(join(tmpdir(), "bench-bootstrap-"));
  const ceilingIndex = `${index}-ceiling`;
  try {
    const schema = await resolveSchema(parseSchema(bookstoreSchema(database, index)), client);
    const spec = schema.indices[0];
    if (!spec) throw new Error("no index");
    const builder = await createDocumentBuilder(spec);
    const store = new FileCheckpointStore({ dir });
    const queue = new MemoryQueue({ maxReceiveCount: Number.POSITIVE_INFINITY });
    const completion = { slot, sink, store };
    const consumer = {
      connect: lender(pool),
      builders: new Map([[index, builder]]),
      sink,
      deadLetter: queue.deadLetterPublisher().send,
      targets: new WriteTargetResolver({ slot, store, sink }).targets,
      enqueue: (messages: Parameters<MemoryQueue["publish"]>[0]) => queue.publish(messages),
      rangeDone: async (id: string, range: string, documents: number) => {
        await onRangeDone(completion, id, range, documents);
      },
    };

    // The bootstrap, end to end: from nothing to the alias serving every document.
    const bootstrap = async () => {
      const started = performance.now();
      const summary = await runBootstrap(
        { ...completion, db: client, schema, publisher: queue },
        { rangeRows, targetsCacheMs: 0 },
      );
      const planned = performance.now();
      const copy = summary.indices[0];
      const concrete = copy?.concrete;
      if (!copy || !concrete) throw new Error("no copy started");
      const consumed = await runConsumerLoop(queue, batchHandler(consumer, consumerOptions), {
        concurrency,
        batchSize: batch,
      });
      const finished = performance.now();
      const targets = await sink.getAliasTargets(index);
      if (targets[0] !== concrete) throw new Error(`alias not switched: ${targets.join(", ")}`);
      await sink.refresh(index);
      const stored = await sink.count(index);
      if (stored !== rows) throw new Error(`${stored} documents in the index, ${rows} expected`);
      return { ms: finished - started, planMs: planned - started, copy, concrete, consumed };
    };

    // The ceiling: the same documents, built beforehand, bulk-indexed by a sink configured alike.
    // Built again for each run rather than kept: a gigabyte of documents held in this process
    // through the bootstrap would weigh on its in-process consumer's garbage collector.
    const ceiling = async () => {
      const buildStarted = performance.now();
      const ops = await buildAll(client, builder, ceilingIndex);
      const buildMs = performance.now() - buildStarted;
      await sink.createIndex(ceilingIndex, copyIndexBody(spec.spec));
      const ceilingSink = createSink(o.sink);
      const started = performance.now();
      await bulkIndex(ceilingSink, ops, rangeRows * batch, concurrency).finally(() => ceilingSink.close());
      const ms = performance.now() - started;
      await sink.refresh(ceilingIndex);
      if ((await sink.count(ceilingIndex)) !== rows) throw new Error("the ceiling run lost documents");
      await sink.deleteIndex(ceilingIndex).catch(() => undefined);
      return { ms, buildMs };
    };

    // A quiet database for all three runs: the seed just wrote about a gigabyte, whose dirty pages
    // the checkpointer would otherwise write out during the first run (it spreads a checkpoint
    // over minutes). Measured at 1,000,000 books beside a copy of the database, as in the full
    // run: ratios 0.69 and 0.76 without this and seed.ts's file copy, 0.79 and 0.80 with both.
    await client.query("CHECKPOINT");
    // A warm engine: when the engine was started just before (the full run starts its services),
    // its JIT would otherwise still be compiling the indexing path during the first run.
    const warmUpStarted = performance.now();
    const warmIndex = `${index}-warmup`;
    const warmOps = await buildAll(client, builder, warmIndex, WARM_UP_DOCUMENTS);
    await sink.createIndex(warmIndex, copyIndexBody(spec.spec));
    // A sink of its own: the measured sinks' adaptive sizes start where they would have.
    const warmSink = createSink(o.sink);
    await bulkIndex(warmSink, warmOps, rangeRows * batch, concurrency).finally(() => warmSink.close());
    await sink.deleteIndex(warmIndex);
    const warmUpMs = performance.now() - warmUpStarted;

    const before = await ceiling();
    const copied = await bootstrap();
    const after = await ceiling();
    const bootstrapMs = copied.ms;
    const ceilingMs = Math.min(before.ms, after.ms);
    const { copy, concrete, consumed, planMs } = copied;

    const rate = (ms: number) => rows / (ms / 1000);
    const bootstrapRate = rate(bootstrapMs);
    const ceilingRate = rate(ceilingMs);
    return {
      rows,
      rangeRows,
      batchMessages: batch,
      concurrency,
      rangePageSize: consumerOptions.rangePageSize,
      lookAhead: consumerOptions.lookAhead ?? DEFAULT_LOOK_AHEAD,
      bulkChunkSize: SINK_DEFAULTS.chunkSize,
      bootstrap: {
        seconds: seconds(bootstrapMs),
        planAndSendSeconds: seconds(planMs),
        ranges: copy.total,
        batches: consumed.batches,
        documentsPerSecond: Math.round(bootstrapRate),
      },
      ceiling: {
        seconds: seconds(ceilingMs),
        documentsPerSecond: Math.round(ceilingRate),
        before: Math.round(rate(before.ms)),
        after: Math.round(rate(after.ms)),
        prebuildSeconds: seconds(before.buildMs),
      },
      warmUpSeconds: seconds(warmUpMs),
      ratio: +(bootstrapRate / ceilingRate).toFixed(3),
      concreteIndex: concrete,
    };
  } finally {
    await sink.deleteIndex(ceilingIndex).catch(() => undefined);
    await sink.deleteIndex(`${index}-warmup`).catch(() => undefined);
    await sink.close();
    await pool.end();
    await client.end();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Documents indexed into a scratch index before the measured pair, to warm the engine up. */
const WARM_UP_DOCUMENTS = 100_000;

/** Every document (or the first `limit`), built once by key range, as index operations. */
async function buildAll(
  client: pg.Client,
  builder: DocumentBuilder,
  index: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<SinkOperation[]> {
  const ops: SinkOperation[] = [];
  let after: string[] | undefined;
  for (;;) {
    const rows = Math.min(5000, limit - ops.length);
    if (rows <= 0) return ops;
    const page = await builder.buildRange(client, { ...(after ? { after } : {}), limit: rows });
    // As the consumer sends them: PostgreSQL's text, so the ceiling pays no serialising either.
    for (const doc of page.documents)
      if (doc.action === "index") ops.push(documentOperation(doc, 1n, index, []));
    after = page.lastKey;
    if (!page.more || !after) return ops;
  }
}

/** `concurrency` workers, each writing one consumer batch's worth of operations per `write` call. */
async function bulkIndex(
  sink: SearchSink,
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
