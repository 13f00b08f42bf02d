/**
 * Poller memory: peak RSS of a fresh poller process while one transaction updating `rows` root
 * rows passes through it (real PostgreSQL + wal2json, real SQS on ElasticMQ), heap capped as
 * Lambda caps it for the poller's memory size. Part of `npm run bench` (bench/main.ts).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { DEFAULT_POLL_SCHEDULE } from "../infra/construct";
import { defaultPollerTimeout, pollerRunSecondsForRate, rateSeconds } from "../infra/functions";
import { createTestQueues } from "../test/support/sqs";
import { createDatabase, databaseUrl, dropDatabase } from "./seed";

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

/**
 * The poller's memory in the CDK stack (infra/functions.ts). The stack sets no heap flag in
 * NODE_OPTIONS, so the heap is what Lambda's Node.js runtime derives from the memory size:
 * old space = memory less 1/64 of it (the runtime's bootstrap; re-check for new runtimes).
 */
export const POLLER_MEMORY_MB = 512;
export const LAMBDA_HEAP_MB = POLLER_MEMORY_MB - POLLER_MEMORY_MB / 64;

export interface PollerMemoryResult {
  rows: number;
  heapMb: number;
  changes: number;
  keys: number;
  seconds: number;
  changesPerSecond: number;
  peakRssBytes: number;
  peakRssMb: number;
}

async function runChild(
  root: string,
  env: Record<string, string>,
  heapMb?: number,
): Promise<Record<string, unknown>> {
  const flags = heapMb ? [`--max-old-space-size=${heapMb}`] : [];
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...flags, "--import", "tsx", join(root, "bench/poller-child.ts")],
      {
        cwd: root,
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

/** A scenario for {@link measurePoller}: its tables and data, then the change the poller must pass. */
interface Scenario {
  /** Names the database, slot and queues. */
  name: string;
  schema: unknown;
  /** Tables and data, before the slot exists. */
  setup: string;
  /** The change to pass through the poller, after the slot exists. */
  change: string;
  rows: number;
  /** More environment for the poller process (e.g. `TIMEOUT_SECONDS`: Lambda runs). */
  env?: Record<string, string>;
}

/**
 * Runs a scenario: a fresh database and slot, the change, then a fresh poller process with the
 * Lambda heap cap reading it all; returns the child's counts, time and peak RSS.
 */
async function measurePoller(
  root: string,
  superUrl: string,
  sqsEndpoint: string,
  scenario: Scenario,
): Promise<PollerMemoryResult & { child: Record<string, unknown> }> {
  const name = `bench_${scenario.name}_${process.pid}`;
  await createDatabase(superUrl, name);
  const url = databaseUrl(superUrl, name);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const queues = await createTestQueues(`bench-${scenario.name}`);
  try {
    await db.query(scenario.setup);
    await db.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [name]);
    await db.query(scenario.change);
    const result = await runChild(
      root,
      {
        PG_URL: url,
        SLOT: name,
        SCHEMA_JSON: JSON.stringify(scenario.schema),
        QUEUE_URL: queues.queueUrl,
        SQS_ENDPOINT: sqsEndpoint,
        ...scenario.env,
      },
      LAMBDA_HEAP_MB,
    );
    const n = (key: string) => (typeof result[key] === "number" ? (result[key] as number) : 0);
    return {
      child: result,
      rows: scenario.rows,
      heapMb: LAMBDA_HEAP_MB,
      changes: n("changes"),
      keys: n("keys"),
      seconds: +n("seconds").toFixed(1),
      changesPerSecond: Math.round(n("changesPerSecond")),
      peakRssBytes: n("peakRssBytes"),
      peakRssMb: Math.round(n("peakRssBytes") / 1048576),
    };
  } finally {
    await db.query("SELECT pg_drop_replication_slot($1)", [name]).catch(() => undefined);
    await db.end();
    await dropDatabase(superUrl, name);
    await queues.remove();
  }
}

const BOOKSTORE_TABLES = `
  CREATE TABLE publisher (id int PRIMARY KEY, name text);
  CREATE TABLE book (id bigint PRIMARY KEY, title text, price numeric, publisher_id int REFERENCES publisher);
  CREATE TABLE review (id bigint PRIMARY KEY, book_id bigint REFERENCES book, stars int, body text);
  ALTER TABLE review REPLICA IDENTITY FULL;
  CREATE INDEX ON review (book_id);`;

/** One `rows`-row transaction through a poller process with the Lambda heap cap; see the file comment. */
export async function benchPollerMemory(
  root: string,
  superUrl: string,
  sqsEndpoint: string,
  rows: number,
): Promise<PollerMemoryResult> {
  const { child: _child, ...result } = await measurePoller(root, superUrl, sqsEndpoint, {
    name: "poller",
    schema: SCHEMA,
    rows,
    setup: `${BOOKSTORE_TABLES}
      INSERT INTO publisher SELECT g, 'publisher ' || g FROM generate_series(1, 100) g;
      INSERT INTO book SELECT g, 'title ' || g, g % 50, 1 + g % 100 FROM generate_series(1, ${rows}) g;`,
    change: "UPDATE book SET price = price + 1",
  });
  return result;
}

/** Result of {@link benchPollerWideRows}. */
export interface WideRowsResult extends PollerMemoryResult {
  /** Bytes of the wide text column of each row. */
  rowBytes: number;
}

/**
 * Poller memory with wide rows: `rows` updates, in one transaction, of rows carrying a
 * `rowBytes`-byte text column under REPLICA IDENTITY FULL, the column itself changed, so every
 * decoded change holds the row twice (new and old). Before fetches were sized by bytes, 5,000
 * such updates of 50 KB rows held about 1.6 GB in the poller.
 */
export async function benchPollerWideRows(
  root: string,
  superUrl: string,
  sqsEndpoint: string,
  rows: number,
  rowBytes: number,
): Promise<WideRowsResult> {
  const result = await measurePoller(root, superUrl, sqsEndpoint, {
    name: "wide",
    schema: [
      { database: "bench", index: "books", nodes: { table: "book", columns: ["id", "title", "body"] } },
    ],
    rows,
    // md5 chains: text that does not compress, as real prose or JSON roughly does not either.
    setup: `
      CREATE TABLE book (id bigint PRIMARY KEY, title text, body text);
      ALTER TABLE book REPLICA IDENTITY FULL;
      INSERT INTO book
        SELECT g, 'title ' || g,
               (SELECT string_agg(md5(g::text || '.' || i::text), '') FROM generate_series(1, ${Math.ceil(rowBytes / 32)}) i)
          FROM generate_series(1, ${rows}) g;`,
    change: "UPDATE book SET body = 'x' || substr(body, 2)",
  });
  const { child: _child, ...rest } = result;
  return { ...rest, rowBytes };
}

/** The stack's default schedule period, in seconds (infra/construct.ts). */
export const STACK_SCHEDULE_SECONDS = rateSeconds(DEFAULT_POLL_SCHEDULE) ?? 60;
/** The stack's poller timeout with its default schedule (infra/functions.ts). */
export const STACK_POLLER_TIMEOUT_SECONDS = defaultPollerTimeout(DEFAULT_POLL_SCHEDULE).toSeconds();
/** The stack's `POLLER_RUN_SECONDS` with that schedule (the period plus the hand-over overlap). */
export const STACK_POLLER_RUN_SECONDS = pollerRunSecondsForRate(
  STACK_SCHEDULE_SECONDS,
  STACK_POLLER_TIMEOUT_SECONDS,
);

/** A poller benchmark run as the stack's Lambda runs it (see bench/poller-child.ts). */
export interface LambdaRunsResult extends PollerMemoryResult {
  /** The poller timeout the runs had. */
  timeoutSeconds: number;
  /** Poller runs it took. */
  runs: number;
  /** Per run: seconds, changes, keys, the large transaction's state at its end. */
  runDetails: unknown;
  /** Whether any run went past its timeout (Lambda would have ended it). */
  overran: boolean;
}

function lambdaRunsResult(
  result: PollerMemoryResult & { child: Record<string, unknown> },
  timeoutSeconds: number,
): LambdaRunsResult {
  const { child, ...rest } = result;
  return {
    ...rest,
    timeoutSeconds,
    runs: typeof child.runs === "number" ? child.runs : 0,
    runDetails: child.runDetails,
    overran: child.overran === true,
  };
}

/**
 * A transaction of `rows` updated rows through the poller as the stack runs it: Lambda runs with
 * the stack's run length and `timeoutSeconds` (default: the stack's), each cycle stopping at the
 * margin before the timeout and the next run going on where it stopped. Time until the
 * transaction was handed on whole (every key accepted by SQS), runs, peak RSS.
 */
export async function benchHugeTransaction(
  root: string,
  superUrl: string,
  sqsEndpoint: string,
  rows: number,
  timeoutSeconds = STACK_POLLER_TIMEOUT_SECONDS,
): Promise<LambdaRunsResult> {
  const result = await measurePoller(root, superUrl, sqsEndpoint, {
    name: "hugetxn",
    schema: [{ database: "bench", index: "items", nodes: { table: "item", columns: ["id", "label"] } }],
    rows,
    setup: `
      CREATE TABLE item (id bigint PRIMARY KEY, label text);
      INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, ${rows}) g;`,
    change: "UPDATE item SET label = label || '!'",
    env: { TIMEOUT_SECONDS: String(timeoutSeconds), RUN_SECONDS: String(STACK_POLLER_RUN_SECONDS) },
  });
  return lambdaRunsResult(result, timeoutSeconds);
}

/**
 * Poller memory through fan-out: one update of the publisher row that `roots` books reference,
 * so one change affects `roots` documents. Before the keys of one lookup were paged, all of them
 * were loaded in one query (about 900 MB for 3,000,000 roots). Run as the stack runs the poller
 * (Lambda runs with the stack's timeout), so the time is judged against it.
 */
export async function benchPollerFanOut(
  root: string,
  superUrl: string,
  sqsEndpoint: string,
  roots: number,
  timeoutSeconds = STACK_POLLER_TIMEOUT_SECONDS,
): Promise<LambdaRunsResult> {
  const result = await measurePoller(root, superUrl, sqsEndpoint, {
    name: "fanout",
    schema: SCHEMA,
    rows: roots,
    setup: `${BOOKSTORE_TABLES}
      INSERT INTO publisher VALUES (1, 'the one publisher');
      INSERT INTO book SELECT g, 'title ' || g, g % 50, 1 FROM generate_series(1, ${roots}) g;
      CREATE INDEX ON book (publisher_id);
      ANALYZE book;`,
    change: "UPDATE publisher SET name = 'renamed' WHERE id = 1",
    env: { TIMEOUT_SECONDS: String(timeoutSeconds), RUN_SECONDS: String(STACK_POLLER_RUN_SECONDS) },
  });
  return lambdaRunsResult(result, timeoutSeconds);
}
