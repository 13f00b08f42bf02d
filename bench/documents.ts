/**
 * Document build throughput: 100,000 root rows with three nested levels below them
 * (customer -> orders -> order lines -> product), built by key range (bootstrap) and by key sets
 * (the consumer's path). Creates and drops its own database on the test PostgreSQL.
 *
 *   npx tsx bench/documents.ts [--roots 100000] [--page 1000] [--keys 500]
 *
 * Prints one JSON object with the measurements, among them the consumer's in-process cost per
 * document from query rows to `_bulk` lines: PostgreSQL's text sent as is, against parsing it and
 * serialising it again (what a transform, plugin or routing needs).
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { buildRangeQuery, DocumentBuilder, type DocumentResult } from "../lib/document";
import { documentOperation } from "../lib/reconcile";
import { parseSchema, resolveSchema } from "../lib/schema";
import { encodeOperation } from "../lib/sink/search/bulk-encoding";
import { getServices } from "../tools/services";

const { values: args } = parseArgs({
  options: {
    roots: { type: "string", default: "100000" },
    page: { type: "string", default: "1000" },
    keys: { type: "string", default: "500" },
    url: { type: "string" },
  },
});
const roots = Number(args.roots);
const page = Number(args.page);
const keyBatch = Number(args.keys);

function superUrl(): string {
  if (args.url) return args.url;
  try {
    return getServices().postgres.url;
  } catch {
    return "postgresql://postgres:postgres@127.0.0.1:55432/postgres";
  }
}

const SCHEMA = (database: string) => [
  {
    database,
    index: "customers",
    nodes: {
      table: "customer",
      columns: ["id", "name", "email", "created_at"],
      children: [
        {
          table: "orders",
          label: "orders",
          columns: ["id", "placed_at", "status", "total"],
          relationship: { type: "one_to_many", variant: "object" },
          children: [
            {
              table: "order_line",
              label: "lines",
              columns: ["id", "quantity", "price"],
              relationship: { type: "one_to_many", variant: "object" },
              children: [
                {
                  table: "product",
                  columns: ["sku", "title"],
                  relationship: { type: "one_to_one", variant: "object" },
                },
              ],
            },
          ],
        },
      ],
    },
  },
];

async function seed(client: pg.Client): Promise<number> {
  const started = performance.now();
  await client.query(`
    CREATE TABLE product (id int PRIMARY KEY, sku text NOT NULL, title text NOT NULL);
    CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, created_at timestamptz NOT NULL);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer (id),
                         placed_at timestamptz NOT NULL, status text NOT NULL, total numeric(12, 2) NOT NULL);
    CREATE TABLE order_line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders (id),
                             product_id int NOT NULL REFERENCES product (id), quantity int NOT NULL, price numeric(10, 2) NOT NULL);
    INSERT INTO product SELECT g, 'SKU-' || g, 'Product ' || g FROM generate_series(1, 1000) g;
    INSERT INTO customer SELECT g, 'Customer ' || g, 'c' || g || '@example.com', '2024-01-01'::timestamptz + g * interval '1 minute'
      FROM generate_series(1, ${roots}) g;
    INSERT INTO orders SELECT g, (g - 1) / 3 + 1, '2024-02-01'::timestamptz + g * interval '1 second',
      (ARRAY['new', 'paid', 'shipped'])[g % 3 + 1], (g % 1000) + 0.99 FROM generate_series(1, ${roots * 3}) g;
    INSERT INTO order_line SELECT g, (g - 1) / 3 + 1, g % 1000 + 1, g % 5 + 1, (g % 100) + 0.5
      FROM generate_series(1, ${roots * 9}) g;
    CREATE INDEX ON orders (customer_id);
    CREATE INDEX ON order_line (order_id);
    ANALYZE;
  `);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: superUrl() });
  await admin.connect();
  const database = `bench_documents_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE "${database}"`);
  const url = new URL(superUrl());
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const seedMs = await seed(client);
    const resolved = await resolveSchema(parseSchema(SCHEMA(database)), client);
    const index = resolved.indices[0];
    if (!index) throw new Error("no index");
    const builder = new DocumentBuilder(index);
    const jitDefault = await measure(client, builder);
    await client.query("SET jit = off");
    const jitOff = await measure(client, builder);
    const strategies = await compareStrategies(client, builder);
    const encoding = await compareEncoding(client, builder);
    console.log(
      JSON.stringify(
        {
          roots,
          rowsPerRoot: { orders: 3, lines: 9, productLookups: 9 },
          seedSeconds: +(seedMs / 1000).toFixed(1),
          jitDefault,
          jitOff,
          strategies,
          encoding,
        },
        null,
        2,
      ),
    );
  } finally {
    await client.end();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  }
}

/** Builds every document by range pages, then random key batches; returns the rates. */
async function measure(client: pg.Client, builder: DocumentBuilder) {
  // Bootstrap path: walk the whole key range page by page.
  let after: string[] | undefined;
  let documents = 0;
  let bytes = 0;
  const rangeStart = performance.now();
  for (;;) {
    const result = await builder.buildRange(client, { after, limit: page });
    documents += result.documents.length;
    for (const d of result.documents) if (d.action === "index") bytes += JSON.stringify(d._source).length;
    if (!result.more || !result.lastKey) break;
    after = result.lastKey;
  }
  const rangeMs = performance.now() - rangeStart;

  // Consumer path: batches of random keys (some missing).
  const batches = 20;
  let keyed = 0;
  const keysStart = performance.now();
  for (let b = 0; b < batches; b++) {
    const keys = Array.from({ length: keyBatch }, () => 1 + Math.floor(Math.random() * roots * 1.01));
    keyed += (await builder.build(client, keys)).length;
  }
  const keysMs = performance.now() - keysStart;

  return {
    range: {
      pageSize: page,
      documents,
      seconds: +(rangeMs / 1000).toFixed(2),
      documentsPerSecond: Math.round(documents / (rangeMs / 1000)),
      averageDocumentBytes: Math.round(bytes / Math.max(1, documents)),
    },
    keys: {
      batchSize: keyBatch,
      batches,
      documents: keyed,
      seconds: +(keysMs / 1000).toFixed(2),
      documentsPerSecond: Math.round(keyed / (keysMs / 1000)),
    },
  };
}

/**
 * The same pages built two ways: the generated statement (correlated subqueries, one index lookup
 * per child level and row) against a hand-written pre-aggregating one (each level grouped once
 * for the whole page, then hash-joined). Milliseconds per page, median of the pages measured.
 */
async function compareStrategies(client: pg.Client, builder: DocumentBuilder) {
  const preAggregated = `
    WITH r AS MATERIALIZED (SELECT * FROM customer WHERE id > $1 ORDER BY id LIMIT $2),
    l AS (SELECT n2.order_id AS k, json_agg(json_build_object('id', n2.id, 'quantity', n2.quantity, 'price', n2.price,
                 'product', json_build_object('sku', n3.sku, 'title', n3.title)) ORDER BY n2.id) AS v
          FROM order_line n2 LEFT JOIN product n3 ON n3.id = n2.product_id
          WHERE n2.order_id IN (SELECT o.id FROM orders o WHERE o.customer_id IN (SELECT id FROM r)) GROUP BY n2.order_id),
    o AS (SELECT n1.customer_id AS k, json_agg(json_build_object('id', n1.id, 'placed_at', n1.placed_at, 'status', n1.status,
                 'total', n1.total, 'lines', l.v) ORDER BY n1.id) AS v
          FROM orders n1 LEFT JOIN l ON l.k = n1.id WHERE n1.customer_id IN (SELECT id FROM r) GROUP BY n1.customer_id)
    SELECT ARRAY[r.id::text] AS key, json_build_object('id', r.id, 'name', r.name, 'email', r.email,
           'created_at', r.created_at, 'orders', o.v)::text AS doc
    FROM r LEFT JOIN o ON o.k = r.id ORDER BY r.id`;
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const generated: number[] = [];
  const handWritten: number[] = [];
  for (let i = 0; i < 40; i++) {
    const after = String(Math.floor((i / 40) * (roots - page)));
    // Both raw, without parsing, so only the SQL differs.
    const query = buildRangeQuery(builder.index, { after: [after], limit: page });
    let started = performance.now();
    await client.query(query.text, query.values);
    generated.push(performance.now() - started);
    started = performance.now();
    await client.query(preAggregated, [after, page]);
    handWritten.push(performance.now() - started);
  }
  return {
    pageSize: page,
    correlatedSubqueriesMsPerPage: +median(generated).toFixed(1),
    preAggregatedJoinsMsPerPage: +median(handWritten).toFixed(1),
  };
}

/**
 * Microseconds of one core per document from built document to `_bulk` lines, both ways, on the
 * same pages (each built twice, since reading `_source` parses it for good). Alternating rounds,
 * median of each, so a drift of the machine hits both alike.
 */
async function compareEncoding(client: pg.Client, builder: DocumentBuilder) {
  const encode = (documents: DocumentResult[], parse: boolean) => {
    const started = process.cpuUsage();
    let bytes = 0;
    for (const doc of documents) {
      if (parse && doc.action === "index") void doc._source;
      const encoded = encodeOperation(documentOperation(doc, 1n, "bench", []));
      if ("invalid" in encoded) throw new Error(encoded.invalid);
      bytes += encoded.bytes;
    }
    const used = process.cpuUsage(started);
    return { micros: used.user + used.system, bytes };
  };
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const asText: number[] = [];
  const parsed: number[] = [];
  let textBytes = 0;
  let parsedBytes = 0;
  for (let i = 0; i < 20; i++) {
    const after = String(Math.floor((i / 20) * (roots - page)));
    const pageOf = async () => (await builder.buildRange(client, { after: [after], limit: page })).documents;
    const [first, second] = [await pageOf(), await pageOf()];
    const text = encode(first, false);
    const again = encode(second, true);
    asText.push(text.micros / first.length);
    parsed.push(again.micros / second.length);
    textBytes += text.bytes;
    parsedBytes += again.bytes;
  }
  const textMicros = median(asText);
  const parsedMicros = median(parsed);
  return {
    documents: 20 * page,
    textMicrosPerDocument: +textMicros.toFixed(2),
    parsedMicrosPerDocument: +parsedMicros.toFixed(2),
    parsedToTextRatio: +(parsedMicros / textMicros).toFixed(2),
    // PostgreSQL's text keeps its spaces ("a" : 1): the bulk body is this much larger.
    textToParsedBytes: +(textBytes / parsedBytes).toFixed(3),
  };
}

await main();
