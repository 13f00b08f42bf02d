import { randomBytes } from "node:crypto";
import { ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsumerDeps, DEFAULT_CONSUMER_OPTIONS, processBatch } from "../../lib/consumer";
import { lender } from "../../lib/database";
import { createDocumentBuilder, type DocumentBuilder, stringifyJson } from "../../lib/document";
import {
  encodeMessage,
  type QueueMessage,
  recordFromSqsMessage,
  SqsDeadLetterPublisher,
  type SqsEvent,
} from "../../lib/queue";
import type { ResolvedSchema } from "../../lib/schema";
import {
  createSink,
  type SearchSink,
  type SinkOperation,
  TOMBSTONE_INDEX_SETTINGS,
  type WriteResult,
} from "../../lib/sink";
import { ENGINES } from "../support/engines";
import { startFaultProxy } from "../support/fault-proxy";
import {
  applySchemaFixture,
  createTestDatabase,
  resolveSchemaFixture,
  type TestDatabase,
} from "../support/pg";
import { createTestQueues, type TestQueues } from "../support/sqs";

const SUFFIX = randomBytes(4).toString("hex");
let db: TestDatabase;
let pool: pg.Pool;
let schema: ResolvedSchema;
let builder: DocumentBuilder;
let queues: TestQueues;

/** The current WAL position: a realistic version, higher for every later call that writes. */
async function lsnNow(): Promise<bigint> {
  const { rows } = await db.client.query<{ n: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS n");
  return BigInt(rows[0]?.n ?? "0");
}

let seq = 0;
function event(...messages: (QueueMessage | string)[]): SqsEvent {
  return {
    Records: messages.map((m) => ({
      messageId: `m${++seq}`,
      body: typeof m === "string" ? m : encodeMessage(m),
      attributes: { ApproximateReceiveCount: "1" },
    })),
  };
}

const keys = (index: string, lsn: bigint, ...ids: number[]): QueueMessage => ({
  kind: "keys",
  index,
  keys: ids.map((id) => [String(id)]),
  lsn,
  sentAt: new Date().toISOString(),
});

beforeAll(async () => {
  db = await createTestDatabase("consumer");
  await applySchemaFixture(db.client, "bookstore");
  schema = await resolveSchemaFixture(db, "bookstore");
  const index = schema.indices[0];
  if (!index) throw new Error("no index");
  builder = await createDocumentBuilder(index);
  pool = new pg.Pool({ connectionString: db.url, max: 4, options: "-c TimeZone=UTC -c jit=off" });
  queues = await createTestQueues("consumer");
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
  await queues?.remove();
});

describe.each(ENGINES)("consumer on $name", ({ name, config, url }) => {
  const index = `slotsync-consumer-${name.slice(0, 2)}-${SUFFIX}`;
  let sink: SearchSink;

  /** Deps writing the schema's "bookstore" index to this engine's test index. */
  function deps(overrides: Partial<ConsumerDeps> = {}): ConsumerDeps {
    return {
      connect: lender(pool),
      builders: new Map([["bookstore", builder]]),
      sink,
      deadLetter: (letters) =>
        new SqsDeadLetterPublisher({ client: queues.client, queueUrl: queues.dlqUrl }).send(letters),
      targets: async () => [index],
      ...overrides,
    };
  }

  async function stored(id: string) {
    await sink.refresh(index);
    const [doc] = await sink.getDocuments(index, [id]);
    return doc;
  }

  /** The document the builder makes from the database now, as the index would store it. */
  async function expected(id: number) {
    const client = await pool.connect();
    try {
      const [doc] = await builder.build(client, [[String(id)]]);
      return doc?.action === "index" ? JSON.parse(stringifyJson(doc._source)) : undefined;
    } finally {
      client.release();
    }
  }

  beforeAll(async () => {
    sink = createSink(config());
    // The schema's own analysis settings need the analysis-common module, which the local
    // engines lack; dynamic mappings are enough for what these tests check.
    // doc->coordinates holds [1.5, 2]: dynamic mapping would guess long or float from the first value.
    await sink.createIndex(index, {
      settings: { ...TOMBSTONE_INDEX_SETTINGS },
      mappings: { properties: { doc_coordinates: { type: "float" } } },
    });
  });
  afterAll(async () => {
    await sink?.deleteIndex(index).catch(() => undefined);
    await sink?.close();
  });

  it("indexes, updates and deletes documents equal to what the database builds", async () => {
    // The suites of both engines share the database: put back the book the other may have deleted.
    await db.client.query(
      "INSERT INTO book (id, isbn, title) VALUES (3, '9781471331435', '1984') ON CONFLICT DO NOTHING",
    );
    const first = await processBatch(event(keys("bookstore", await lsnNow(), 1, 2, 3)), deps());
    expect(first.response.batchItemFailures).toEqual([]);
    expect(first.stats.indexed).toBe(3);
    expect((await stored("1"))?.source).toEqual(await expected(1));

    await db.client.query("UPDATE book SET title = 'Matilda' WHERE id = 1");
    await processBatch(event(keys("bookstore", await lsnNow(), 1)), deps());
    expect((await stored("1"))?.source).toMatchObject({ book_title: "Matilda" });

    await db.client.query("DELETE FROM book WHERE id = 3");
    const gone = await processBatch(event(keys("bookstore", await lsnNow(), 3)), deps());
    expect(gone.stats.deleted).toBe(1);
    expect(await stored("3")).toBeUndefined();
  });

  it("racing consumers: a document built from an older snapshot never replaces a newer one", async () => {
    await db.client.query("UPDATE book SET title = 'old title' WHERE id = 2");
    const oldVersion = await lsnNow();
    // Consumer A builds from the old state, then stalls before writing.
    let releaseA!: () => void;
    const gate = new Promise<void>((r) => {
      releaseA = r;
    });
    let aBuilt!: () => void;
    const aReady = new Promise<void>((r) => {
      aBuilt = r;
    });
    const slowSink = Object.create(sink) as SearchSink;
    slowSink.write = async <O extends SinkOperation>(ops: readonly O[]): Promise<WriteResult<O>> => {
      aBuilt();
      await gate;
      return sink.write(ops);
    };
    const a = processBatch(event(keys("bookstore", oldVersion, 2)), deps({ sink: slowSink }));
    await aReady;
    // Meanwhile the row changes and consumer B writes the newer document.
    await db.client.query("UPDATE book SET title = 'new title' WHERE id = 2");
    const b = await processBatch(event(keys("bookstore", await lsnNow(), 2)), deps());
    expect(b.stats.indexed).toBe(1);
    releaseA();
    const resultA = await a;
    expect(resultA.stats.stale).toBe(1);
    expect(resultA.response.batchItemFailures).toEqual([]);
    expect((await stored("2"))?.source).toMatchObject({ book_title: "new title" });

    // An old message delivered late (out of order) is stale too, even though it builds fresh data.
    const late = await processBatch(event(keys("bookstore", oldVersion, 2)), deps());
    expect(late.stats.stale).toBe(1);
    expect((await stored("2"))?.version).toBeGreaterThan(oldVersion);
  });

  it("duplicate delivery writes the same document again, harmlessly", async () => {
    const message = keys("bookstore", await lsnNow(), 1);
    const before = await processBatch(event(message), deps());
    const again = await processBatch(event(message), deps());
    expect(before.response.batchItemFailures).toEqual([]);
    expect(again.response.batchItemFailures).toEqual([]);
    expect((await stored("1"))?.source).toEqual(await expected(1));
  });

  it("a message of an unknown version and a document the engine rejects go to the DLQ with the reason", async () => {
    const strict = `${index}-strict`;
    await sink.createIndex(strict, {
      mappings: { dynamic: "strict", properties: { book_id: { type: "long" } } },
    });
    try {
      const result = await processBatch(
        event('{"v":2,"kind":"keys"}', keys("bookstore", await lsnNow(), 1)),
        deps({ targets: async () => [strict] }),
      );
      expect(result.response.batchItemFailures).toEqual([]);
      expect(result.stats.deadLettered).toBe(2);
      const letters = await queues.drainDlq({ count: 2, timeoutMs: 5000 });
      const reasons = letters.map((l) => l.attributes["slotsync-reason"] ?? "").sort();
      expect(reasons[0]).toMatch(/document 1 rejected by .*strict/);
      expect(reasons[1]).toMatch(/unknown message version 2/);
    } finally {
      await sink.deleteIndex(strict);
    }
  });

  it("recovers from injected 429 and 503 answers without loss; what keeps failing comes again", async () => {
    const proxy = await startFaultProxy({ target: url(), seed: 7, engine: name });
    const flaky = createSink({ ...config(proxy.url), baseDelayMs: 5, maxDelayMs: 20 });
    try {
      await db.client.query("UPDATE book SET title = 'through faults' WHERE id = 4");
      proxy.setFaults({ failNext: 2, statuses: [429, 503] });
      const ok = await processBatch(event(keys("bookstore", await lsnNow(), 4)), deps({ sink: flaky }));
      expect(ok.response.batchItemFailures).toEqual([]);
      expect(ok.stats.retried).toBeGreaterThan(0);
      expect(proxy.stats().injected).toBe(2);
      expect((await stored("4"))?.source).toMatchObject({ book_title: "through faults" });

      proxy.setFaults({ rate: 1, statuses: [503] });
      const failing = await processBatch(event(keys("bookstore", await lsnNow(), 4)), deps({ sink: flaky }), {
        ...DEFAULT_CONSUMER_OPTIONS,
        deadline: Date.now() + 300,
      });
      expect(failing.response.batchItemFailures).toHaveLength(1);
      expect(failing.stats.deadLettered).toBe(0);
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });

  it("copies a key range through real SQS and reports the range done", async () => {
    await db.client.query(
      "INSERT INTO book (id, isbn, title) SELECT g, 'r' || g, 'range ' || g FROM generate_series(100, 160) g ON CONFLICT DO NOTHING",
    );
    const done: string[] = [];
    await queues.client.send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl,
        MessageBody: encodeMessage({
          kind: "range",
          index: "bookstore",
          range: { from: ["99"], to: ["150"] },
          lsn: await lsnNow(),
          bootstrapId: "b1",
          rangeId: "r1",
          sentAt: new Date().toISOString(),
        }),
      }),
    );
    const res = await queues.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 2,
        AttributeNames: ["All"],
      }),
    );
    const batch: SqsEvent = { Records: (res.Messages ?? []).map((m) => recordFromSqsMessage(m)) };
    expect(batch.Records).toHaveLength(1);
    const result = await processBatch(
      batch,
      deps({ rangeDone: async (b, r, n) => void done.push(`${b}/${r}/${n}`) }),
      {
        ...DEFAULT_CONSUMER_OPTIONS,
        rangePageSize: 20,
      },
    );
    expect(result.response.batchItemFailures).toEqual([]);
    expect(done).toEqual(["b1/r1/51"]);
    expect(await stored("150")).toBeDefined();
    expect(await stored("151")).toBeUndefined();
    expect(await stored("100")).toBeDefined();
  });

  it("a target lookup that keeps failing fails only the records that need it; the rest of the batch is written", async () => {
    await db.client.query("UPDATE book SET title = title || ' (t)' WHERE id = 2");
    const range: QueueMessage = {
      kind: "range",
      index: "bookstore",
      range: { from: null, to: ["3"] },
      lsn: await lsnNow(),
      bootstrapId: "lookup-down",
      rangeId: "r1",
      sentAt: new Date().toISOString(),
    };
    const batch = event(keys("bookstore", await lsnNow(), 2), range);
    const result = await processBatch(
      batch,
      deps({
        targets: async (_index, context) => {
          if (context?.bootstrapId === "lookup-down") throw new Error("checkpoint store unreachable");
          return [index];
        },
      }),
    );
    expect(result.response.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[1]?.messageId }]);
    expect((result.error as Error).message).toMatch(/checkpoint store unreachable/);
    expect((await stored("2"))?.source).toEqual(await expected(2));
  });

  it("a range record failing on its last delivery marks its range failed with the reason", async () => {
    const range = (rangeId: string): QueueMessage => ({
      kind: "range",
      index: "bookstore",
      range: { from: null, to: ["3"] },
      lsn: 1n,
      bootstrapId: "exhausted",
      rangeId,
      sentAt: new Date().toISOString(),
    });
    const batch = event(range("last"), range("early"));
    const last = batch.Records[0];
    if (last) last.attributes = { ApproximateReceiveCount: "5" };
    const marked: string[] = [];
    const result = await processBatch(
      batch,
      deps({
        maxReceives: 5,
        targets: async () => {
          throw new Error("checkpoint store unreachable");
        },
        rangeFailed: async (b, r, reason) => void marked.push(`${b}/${r}: ${reason}`),
      }),
    );
    expect(result.response.batchItemFailures).toHaveLength(2);
    expect(marked).toEqual([
      "exhausted/last: dead-lettered by SQS after 5 deliveries: checkpoint store unreachable",
    ]);
  });

  it("a truncate reconciles: documents whose root row is gone go, newer ones and rows without a document come", async () => {
    await db.client.query(
      "INSERT INTO book (id, isbn, title) VALUES (901, 't901', 'gone'), (902, 't902', 'gone'), (903, 't903', 'stays')",
    );
    const before = await lsnNow();
    await processBatch(event(keys("bookstore", before, 901, 902)), deps());
    await db.client.query("DELETE FROM book WHERE id IN (901, 902)");
    const truncateAt = await lsnNow();
    // Book 4 was written after the truncate (a higher version): it stays whatever happens.
    await processBatch(event(keys("bookstore", truncateAt + 1000n, 4)), deps());
    expect(await stored("903")).toBeUndefined();
    const result = await processBatch(
      event({ kind: "truncate", index: "bookstore", lsn: truncateAt, sentAt: new Date().toISOString() }),
      deps(),
    );
    expect(result.response.batchItemFailures).toEqual([]);
    expect(await stored("901")).toBeUndefined();
    expect(await stored("902")).toBeUndefined();
    expect(await stored("4")).toBeDefined();
    // The row with no document gets one, at the repair's version.
    const added = await stored("903");
    expect(added?.source).toEqual(await expected(903));
    expect(added?.version).toBe(truncateAt);
    await db.client.query("DELETE FROM book WHERE id = 903");
  });
});
