import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsumerDeps, DEFAULT_CONSUMER_OPTIONS, processBatch } from "../../lib/consumer";
import { lender } from "../../lib/database";
import { createDocumentBuilder, type DocumentBuilder } from "../../lib/document";
import { type DeadLetter, encodeMessage, type QueueMessage, type SqsEvent } from "../../lib/queue";
import { createWebhookSink, verifyWebhookSignature } from "../../lib/sink";
import { lines, runCli, scratchDir, writeSchemaCopy } from "../support/cli";
import { type HttpListener, type RecordedRequest, startHttpListener } from "../support/http-listener";
import { createFixtureDatabase, resolveSchemaFixture, type TestDatabase } from "../support/pg";

/**
 * The webhook sink against real HTTP receivers: bootstrap and live sync through the CLI (every
 * request signed, the operations equal to render), retries after 503 and 429 with Retry-After, a
 * 400 for one document dead-lettered with the receiver's reason, and the consumer's deadline.
 */

const id = randomBytes(4).toString("hex");
const slot = `sink_webhook_${id}`;
const index = `sink-webhook-${id}`;
const SECRET = `whsec-${randomBytes(16).toString("hex")}`;
const EXTRA_BOOKS = 80;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let schemaPath: string;
let listener: HttpListener;

interface Body {
  v: number;
  operations: { op: string; index: string; id?: string; version: string; source?: unknown }[];
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PG_URL: db.url,
    DATABASE: db.name,
    SCHEMA: schemaPath,
    SLOTSYNC_SLOT: slot,
    SLOTSYNC_STATE_DIR: join(scratch.dir, "state"),
    WRITE_TARGETS_CACHE_SECONDS: "0",
    BOOTSTRAP_RANGE_ROWS: "30",
    POLL_INTERVAL_SECONDS: "0.1",
    SINK: "webhook",
    WEBHOOK_URL: `${listener.url}/slotsync/in?token=abc`,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_BATCH_SIZE: "25",
    ...extra,
  };
}

/** The receiver's check, written out as docs/guides/sinks.md tells receivers to do it (no slotsync code). */
function signatureValid(request: RecordedRequest): boolean {
  const header = String(request.headers["x-slotsync-signature"] ?? "");
  const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
  const v2 = /(?:^|,)v2=([0-9a-f]+)/.exec(header)?.[1];
  const delivery = String(request.headers["x-slotsync-delivery"] ?? "");
  if (!t || !v2 || !delivery) return false;
  if (Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac("sha256", SECRET).update(`${t}.${delivery}.${request.body}`).digest();
  const given = Buffer.from(v2, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function rendered(ids?: string[]): Promise<Map<string, unknown>> {
  const r = await runCli(["render", ...(ids ? ["--ids", ids.join(",")] : [])], { env: env() });
  expect(r.code).toBe(0);
  const docs = new Map<string, unknown>();
  for (const line of lines(r.stdout)) {
    const doc = JSON.parse(line) as { _id: string; _source: unknown };
    docs.set(doc._id, doc._source);
  }
  return docs;
}

/** A receiver whose answer depends on the request (the shared listener answers in order only). */
async function startServer(
  answer: (body: string, respond: (status: number, json?: unknown) => void) => void,
): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      bodies.push(body);
      answer(body, (status, json) => {
        res.writeHead(status, json === undefined ? {} : { "content-type": "application/json" });
        res.end(json === undefined ? undefined : JSON.stringify(json));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  await db.client.query(`
    INSERT INTO book (id, isbn, title, description, publisher_id, publish_date, price)
      SELECT g, 'isbn-' || g, 'Title ' || g, 'About book ' || g, 1 + g % 3,
             timestamp '2000-01-01' + g * interval '1 hour', (g % 100) + 0.99
        FROM generate_series(5, ${4 + EXTRA_BOOKS}) g;
    ANALYZE;`);
  scratch = await scratchDir("sink-webhook");
  schemaPath = await writeSchemaCopy(scratch.dir, "bookstore", () => index);
  listener = await startHttpListener();
}, 120_000);

afterAll(async () => {
  await listener?.close();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await scratch?.remove();
});

describe("webhook sink through the CLI", () => {
  it("bootstrap POSTs every document in signed batches of at most WEBHOOK_BATCH_SIZE, equal to render", async () => {
    const r = await runCli(["bootstrap", "--fix-replica-identity", "--quiet"], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${index}: emitted ${4 + EXTRA_BOOKS} documents in `));
    expect(listener.requests.length).toBeGreaterThan(1);
    const emitted = new Map<string, unknown>();
    for (const request of listener.requests) {
      expect(request.method).toBe("POST");
      expect(request.path).toBe("/slotsync/in?token=abc");
      expect(request.headers["content-type"]).toBe("application/json");
      expect(signatureValid(request)).toBe(true);
      expect(
        verifyWebhookSignature(
          SECRET,
          String(request.headers["x-slotsync-signature"]),
          String(request.headers["x-slotsync-delivery"]),
          request.body,
        ),
      ).toBe(true);
      const body = request.json<Body>();
      expect(body.v).toBe(1);
      expect(body.operations.length).toBeLessThanOrEqual(25);
      for (const op of body.operations) {
        expect(op).toMatchObject({ op: "index", index });
        emitted.set(op.id as string, op.source);
      }
    }
    const expected = await rendered();
    expect([...emitted.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [docId, source] of expected) expect(emitted.get(docId), `document ${docId}`).toEqual(source);
    // The signature is over the exact bytes: another secret does not verify.
    const first = listener.requests[0] as RecordedRequest;
    expect(
      verifyWebhookSignature(
        "not-the-secret-000",
        String(first.headers["x-slotsync-signature"]),
        String(first.headers["x-slotsync-delivery"]),
        first.body,
      ),
    ).toBe(false);
  });

  it("run --once retries after 503 and after 429 with Retry-After, then delivers the change", async () => {
    listener.clear();
    listener.respondWith(
      { status: 503, body: "restarting" },
      { status: 429, headers: { "retry-after": "1" }, body: { error: "slow down" } },
    );
    await db.client.query("UPDATE book SET title = 'Matilda (webhook)' WHERE id = 1");
    const r = await runCli(["run", "--once"], { env: env() });
    expect(r.code).toBe(0);
    const requests = listener.requests;
    expect(requests).toHaveLength(3);
    // The same batch three times: same body, same delivery id (receivers may drop repeats).
    expect(new Set(requests.map((q) => q.body)).size).toBe(1);
    expect(new Set(requests.map((q) => q.headers["x-slotsync-delivery"])).size).toBe(1);
    for (const q of requests) expect(signatureValid(q)).toBe(true);
    const op = (requests[2] as RecordedRequest).json<Body>().operations.find((o) => o.id === "1");
    const expected = (await rendered(["1"])).get("1");
    expect(expected).toMatchObject({ book_title: "Matilda (webhook)" });
    expect(op).toMatchObject({ op: "index", index, source: expected });
  });
});

describe("webhook sink in the consumer (processBatch)", () => {
  let pool: pg.Pool;
  let builder: DocumentBuilder;
  let seq = 0;

  const keys = (lsn: bigint, ...ids: number[]): QueueMessage => ({
    kind: "keys",
    index: "bookstore",
    keys: ids.map((n) => [String(n)]),
    lsn,
    sentAt: new Date().toISOString(),
  });
  const event = (...messages: QueueMessage[]): SqsEvent => ({
    Records: messages.map((m) => ({
      messageId: `m${++seq}`,
      body: encodeMessage(m),
      attributes: { ApproximateReceiveCount: "1" },
    })),
  });
  async function lsnNow(): Promise<bigint> {
    const { rows } = await db.client.query<{ n: string }>("SELECT (pg_current_wal_lsn() - '0/0')::text AS n");
    return BigInt(rows[0]?.n ?? "0");
  }
  function deps(url: string, letters: DeadLetter[]): ConsumerDeps {
    return {
      connect: lender(pool),
      builders: new Map([["bookstore", builder]]),
      sink: createWebhookSink({ engine: "webhook", url, secret: SECRET, baseDelayMs: 10, maxDelayMs: 50 }),
      deadLetter: async (l) => {
        letters.push(...l);
      },
    };
  }

  beforeAll(async () => {
    const schema = await resolveSchemaFixture(db, "bookstore");
    builder = await createDocumentBuilder(schema.indices[0] as (typeof schema.indices)[number]);
    pool = new pg.Pool({ connectionString: db.url, max: 2, options: "-c TimeZone=UTC -c jit=off" });
  });

  afterAll(async () => {
    await pool?.end();
  });

  it("a 400 for one document: only its record is dead-lettered, with the receiver's reason; the rest is delivered", async () => {
    const server = await startServer((body, respond) => {
      const ops = (JSON.parse(body) as Body).operations;
      if (ops.some((o) => o.id === "3")) respond(400, { error: "book 3 is embargoed" });
      else respond(200);
    });
    try {
      const letters: DeadLetter[] = [];
      const lsn = await lsnNow();
      const batch = event(keys(lsn, 1, 2), keys(lsn, 3), keys(lsn, 4));
      const result = await processBatch(batch, deps(server.url, letters));
      expect(result.response.batchItemFailures).toEqual([]);
      expect(letters).toHaveLength(1);
      expect(letters[0]?.reason).toBe(
        "document 3 rejected by bookstore: the webhook receiver refused it with HTTP 400: book 3 is embargoed",
      );
      expect(JSON.parse(letters[0]?.body ?? "{}")).toMatchObject({ keys: [["3"]] });
      const delivered = server.bodies
        .map((b) => JSON.parse(b) as Body)
        .filter((b) => !b.operations.some((o) => o.id === "3"))
        .flatMap((b) => b.operations.map((o) => o.id));
      expect(delivered.sort()).toEqual(["1", "2", "4"]);
      expect(result.stats).toMatchObject({ indexed: 3, rejected: 1, deadLettered: 1 });
    } finally {
      await server.close();
    }
  });

  it("a receiver that never answers: the batch stops at the deadline and every record comes again", async () => {
    const server = await startServer(() => {
      // Never answers.
    });
    try {
      const letters: DeadLetter[] = [];
      const batch = event(keys(await lsnNow(), 1, 2));
      const result = await processBatch(batch, deps(server.url, letters), {
        ...DEFAULT_CONSUMER_OPTIONS,
        deadline: Date.now() + 1500,
      });
      expect(result.response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
        batch.Records.map((r) => r.messageId),
      );
      expect(letters).toEqual([]);
      expect(result.stats).toMatchObject({ indexed: 0, retryable: 2 });
      expect(server.bodies.length).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
    }
  });

  it("a truncated root table is sent as one truncate record with the truncate's version", async () => {
    const letters: DeadLetter[] = [];
    listener.clear();
    const lsn = await lsnNow();
    const message: QueueMessage = {
      kind: "truncate",
      index: "bookstore",
      lsn,
      sentAt: new Date().toISOString(),
    };
    const result = await processBatch(event(message), deps(`${listener.url}/t`, letters));
    expect(result.response.batchItemFailures).toEqual([]);
    expect(listener.requests).toHaveLength(1);
    expect(listener.requests[0]?.json<Body>().operations).toEqual([
      { op: "truncate", index: "bookstore", version: String(lsn) },
    ]);
  });
});
