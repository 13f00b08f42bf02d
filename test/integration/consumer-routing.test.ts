/**
 * Indices with custom routing (the schema's `routing`), on both engines, with several shards: a
 * delete of a root, a change of the routing value (re-parenting) and a primary-key change leave
 * exactly one copy of each document, under its current routing, and nothing for deleted rows.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ConsumerDeps,
  DEFAULT_CONSUMER_OPTIONS,
  processBatch,
  routeOperations,
} from "../../lib/consumer";
import { lender } from "../../lib/database";
import { buildIndexBody, createDocumentBuilder, type DocumentBuilder } from "../../lib/document";
import { encodeMessage, type SqsEvent } from "../../lib/queue";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { ENGINES } from "../support/engines";
import { createTestDatabase, type TestDatabase } from "../support/pg";

const SUFFIX = randomBytes(4).toString("hex");
const SCHEMA = [
  {
    database: "x",
    index: "orders",
    routing: "customer_id",
    nodes: {
      table: "orders",
      columns: ["id", "customer_id", "note"],
      children: [
        {
          table: "order_line",
          columns: ["sku"],
          relationship: { type: "one_to_many", variant: "scalar" },
        },
      ],
    },
  },
];

let db: TestDatabase;
let pool: pg.Pool;
let builder: DocumentBuilder;

function indexBody() {
  const [spec] = parseSchema(SCHEMA);
  if (!spec) throw new Error("no index");
  return buildIndexBody(spec);
}

async function lsnNow(): Promise<bigint> {
  const { rows } = await db.client.query<{ n: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS n");
  return BigInt(rows[0]?.n ?? "0");
}

let seq = 0;
async function keysEvent(...ids: number[]): Promise<SqsEvent> {
  const lsn = await lsnNow();
  return {
    Records: [
      {
        messageId: `m${++seq}`,
        body: encodeMessage({
          kind: "keys",
          index: "orders",
          keys: ids.map((id) => [String(id)]),
          lsn,
          sentAt: new Date().toISOString(),
        }),
        attributes: { ApproximateReceiveCount: "1" },
      },
    ],
  };
}

beforeAll(async () => {
  db = await createTestDatabase("consumer_routing");
  await db.client.query(`
    CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL, note text);
    CREATE TABLE order_line (id serial PRIMARY KEY, order_id integer REFERENCES orders (id) ON UPDATE CASCADE ON DELETE CASCADE, sku text);
    INSERT INTO orders SELECT i, 1 + i % 5, 'order ' || i FROM generate_series(1, 20) i;
    INSERT INTO order_line (order_id, sku) SELECT i, 'sku-' || i FROM generate_series(1, 20) i;
  `);
  const schema = await resolveSchema(parseSchema(SCHEMA), db.client, { checkDatabaseName: false });
  const index = schema.indices[0];
  if (!index) throw new Error("no index");
  builder = await createDocumentBuilder(index);
  pool = new pg.Pool({ connectionString: db.url, max: 4, options: "-c TimeZone=UTC -c jit=off" });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe.each(ENGINES)("custom routing on $name (4 shards)", ({ name, config }) => {
  const index = `slotsync-routing-${name.slice(0, 2)}-${SUFFIX}`;
  let sink: SearchSink;

  const deps = (): ConsumerDeps => ({
    connect: lender(pool),
    builders: new Map([["orders", builder]]),
    sink,
    deadLetter: async (letters) => {
      throw new Error(`unexpected dead letters: ${JSON.stringify(letters)}`);
    },
    targets: async () => [index],
  });

  /** Every copy in the index, as `id@routing`, sorted. */
  async function copies(): Promise<string[]> {
    await sink.refresh(index);
    const found: string[] = [];
    for await (const doc of sink.scan(index)) found.push(`${doc.id}@${doc.routing ?? "-"}`);
    return found.sort();
  }

  /** What the database says: one copy per order, routed by its customer. */
  async function wanted(): Promise<string[]> {
    const { rows } = await db.client.query<{ id: number; customer_id: number }>(
      "SELECT id, customer_id FROM orders",
    );
    return rows.map((r) => `${r.id}@${r.customer_id}`).sort();
  }

  async function run(...ids: number[]) {
    const result = await processBatch(await keysEvent(...ids), deps(), DEFAULT_CONSUMER_OPTIONS);
    expect(result.response.batchItemFailures).toEqual([]);
    return result;
  }

  beforeAll(async () => {
    sink = createSink(config());
    await sink.createIndex(index, {
      ...indexBody(),
      settings: { ...TOMBSTONE_INDEX_SETTINGS, number_of_shards: 4, number_of_replicas: 0 },
    });
  });
  afterAll(async () => {
    await sink?.deleteIndex(index).catch(() => undefined);
    await sink?.close();
  });

  it("requires routing on the index, as the schema's routing asks", async () => {
    expect(indexBody().mappings).toMatchObject({
      _routing: { required: true },
    });
  });

  it("indexes every order under its customer, then deletes a root whose routing value is gone", async () => {
    // The suites of both engines share the database: they run one after the other.
    await db.client.query("TRUNCATE orders CASCADE");
    await db.client.query(`
      INSERT INTO orders SELECT i, 1 + i % 5, 'order ' || i FROM generate_series(1, 20) i;
      INSERT INTO order_line (order_id, sku) SELECT i, 'sku-' || i FROM generate_series(1, 20) i;
    `);
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    await run(...all);
    expect(await copies()).toEqual(await wanted());

    // Written less than a refresh interval ago: found after the refresh the delete path makes.
    await db.client.query("DELETE FROM orders WHERE id IN (1, 2)");
    const gone = await run(1, 2);
    expect(gone.stats.deleted).toBe(2);
    expect(await copies()).toEqual(await wanted());
  });

  it("re-parenting (the routing value changes) leaves no copy under the old routing", async () => {
    await db.client.query("UPDATE orders SET customer_id = customer_id + 10 WHERE id BETWEEN 3 AND 14");
    await run(...Array.from({ length: 12 }, (_, i) => i + 3));
    const now = await copies();
    expect(now).toEqual(await wanted());
    expect(now).toContain("3@14");
  });

  it("a primary-key change deletes the old document wherever it was routed", async () => {
    await db.client.query("UPDATE orders SET id = 120 WHERE id = 15");
    await run(15, 120);
    const now = await copies();
    expect(now).toEqual(await wanted());
    expect(now.some((c) => c.startsWith("15@"))).toBe(false);
    expect(now).toContain("120@1");
  });

  it("a slower consumer's older write under the former routing is dropped, not added as a second copy", async () => {
    const newer = await lsnNow();
    await run(16); // current routing (customer 2), at version `newer` or above
    const [current] = await sink.getDocuments(index, [{ id: "16", routing: "2" }]);
    expect(current?.version).toBeGreaterThanOrEqual(newer);
    // What a consumer that built order 16 before a re-parenting would write: the old routing, an
    // older version. Through the consumer's routing step, as processBatch sends every write.
    const late = {
      kind: "index" as const,
      index,
      id: "16",
      version: (current?.version ?? 1n) - 1n,
      routing: "7",
      source: { id: 16, customer_id: 7, note: "stale", order_line: null },
    };
    const ops = await routeOperations(sink, [late], new Set([late]));
    expect(ops).toEqual([]);
    expect(await copies()).toEqual(await wanted());
  });
});
