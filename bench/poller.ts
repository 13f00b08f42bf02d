/**
 * Poller benchmark: changes decoded and resolved per second, and the poller's peak memory while
 * one 1,000,000-row transaction passes (target: under 256 MB RSS).
 *
 *   npx tsx bench/poller.ts [--rows 1000000] [--child-rows 100000]
 *
 * Two workloads in one run, each measured in a fresh poller process against real PostgreSQL +
 * wal2json and real SQS (ElasticMQ): (1) one transaction updating `rows` root rows, whose keys
 * come straight from the WAL; (2) `child-rows` updates of child rows spread over many
 * transactions, whose root keys need resolution queries. Results: bench/results/poller.json.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { ensureServices } from "../test/services";
import { createTestQueues } from "../test/support/sqs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SCHEMA = [
  {
    database: "bench",
    index: "books",
    nodes: {
      table: "book",
      columns: ["id", "title", "price"],
      children: [
        { table: "publisher", columns: ["name"], relationship: { type: "one_to_one", variant: "object" } },
        {
          table: "review",
          columns: ["stars", "body"],
          relationship: { type: "one_to_many", variant: "object" },
        },
      ],
    },
  },
];

/** Heap cap for the poller process: what the CDK stack sets for a 256 MB function (NODE_OPTIONS). */
export const LAMBDA_HEAP_MB = 160;

async function runChild(env: Record<string, string>, heapMb?: number): Promise<Record<string, number>> {
  const flags = heapMb ? [`--max-old-space-size=${heapMb}`] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...flags, "--import", "tsx", join(ROOT, "bench/poller-child.ts")],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.once("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "{}"))
        : reject(new Error(`child exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const rows = flag("rows", 1_000_000);
  const childRows = flag("child-rows", 100_000);
  const { endpoints } = await ensureServices(["postgres", "elasticmq"]);
  const admin = new pg.Client({ connectionString: endpoints.postgres.url });
  await admin.connect();
  const name = `bench_poller_${process.pid}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = endpoints.postgres.url.replace(/\/postgres$/, `/${name}`);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const slot = `bench_poller_${process.pid}`;
  const queues = await createTestQueues("bench-poller");
  const results: Record<string, unknown> = { rows, childRows, date: new Date().toISOString() };
  try {
    await db.query(`
      CREATE TABLE publisher (id int PRIMARY KEY, name text);
      CREATE TABLE book (id bigint PRIMARY KEY, title text, price numeric, publisher_id int REFERENCES publisher);
      CREATE TABLE review (id bigint PRIMARY KEY, book_id bigint REFERENCES book, stars int, body text);
      ALTER TABLE review REPLICA IDENTITY FULL;
      INSERT INTO publisher SELECT g, 'publisher ' || g FROM generate_series(1, 100) g;
      INSERT INTO book SELECT g, 'title ' || g, g % 50, 1 + g % 100 FROM generate_series(1, ${rows}) g;
      INSERT INTO review SELECT g, 1 + (g * 7) % ${rows}, g % 5, 'review ' || g FROM generate_series(1, ${childRows}) g;
      CREATE INDEX ON review (book_id);`);
    await db.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
    await db.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [`${slot}_capped`]);
    const env = {
      PG_URL: url,
      SLOT: slot,
      SCHEMA_JSON: JSON.stringify(SCHEMA),
      QUEUE_URL: queues.queueUrl,
      SQS_ENDPOINT: endpoints.elasticmq.endpoint,
    };

    process.stderr.write(`one transaction updating ${rows} root rows...\n`);
    // The same transaction twice: once with Node's default heap sizing, once capped as in Lambda.
    await db.query("UPDATE book SET price = price + 1");
    results.bigTransaction = await runChild(env);
    await purge(queues);
    results.bigTransactionCapped = {
      heapMb: LAMBDA_HEAP_MB,
      ...(await runChild({ ...env, SLOT: `${slot}_capped` }, LAMBDA_HEAP_MB)),
    };
    await purge(queues);
    await db.query("SELECT pg_drop_replication_slot($1)", [`${slot}_capped`]);

    process.stderr.write(`${childRows} child updates in transactions of 100...\n`);
    for (let start = 1; start <= childRows; start += 100) {
      await db.query("UPDATE review SET stars = (stars + 1) % 5 WHERE id BETWEEN $1 AND $2", [
        start,
        start + 99,
      ]);
    }
    results.childUpdates = await runChild(env);
  } finally {
    await db.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
    await db.query("SELECT pg_drop_replication_slot($1)", [`${slot}_capped`]).catch(() => undefined);
    await db.end();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
    await queues.remove();
  }
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(join(ROOT, "bench/results/poller.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
}

async function purge(queues: Awaited<ReturnType<typeof createTestQueues>>): Promise<void> {
  const { PurgeQueueCommand } = await import("@aws-sdk/client-sqs");
  await queues.client.send(new PurgeQueueCommand({ QueueUrl: queues.queueUrl }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
